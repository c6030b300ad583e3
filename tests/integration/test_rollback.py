# SPDX-License-Identifier: LGPL-2.1-or-later
"""Rollbacks as the upgrade guide means them (issue 18), on an instance of its own with its own
venv (nvd-testbed up --private-venv): real rows made through Nautobot (contracts, cost
snapshots, coverage snapshots, an iCal token), nautobot-verifyctl rollback's target, plan and
counts (asserted against SELECT count(*)), its commands followed by hand, and a pip-only
rollback recovered the way the database check says. The tests run in order, on one server."""

import glob
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import nvdtest

NAME = "h18rb"
APP = "nautobot_contract_models"
PKG = "nautobot-contract-models"
NEW, OLD = "2026.5.17", "2026.5.12"
T0009 = "0009_alter_status_related_name"
T0010 = "0010_icalaccesstoken_coveragesnapshot"
TABLES_0010 = ["nautobot_contract_models_icalaccesstoken", "nautobot_contract_models_coveragesnapshot"]
COST = "nautobot_contract_models_costsnapshot"
CTL = os.path.join(nvdtest.BUILD_DIR, "daemon", "verifyctl", "nautobot-verifyctl")
OLD_SITE = glob.glob("/var/cache/nautobot-verifyd-testbed/venv-nautobot-3.1.6-app-2026.5.12-*/lib/python3*/site-packages")

MAKE_ROWS = """
import datetime, decimal
from django.contrib.auth import get_user_model
from nautobot.dcim.models import Device, DeviceType, Location, LocationType, Manufacturer
from nautobot.extras.models import Role, Status
from nautobot_contract_models.models import Contract
from django.apps import apps
CostSnapshot = apps.get_model("nautobot_contract_models", "CostSnapshot")
CoverageSnapshot = apps.get_model("nautobot_contract_models", "CoverageSnapshot")
ICal = apps.get_model("nautobot_contract_models", "ICalAccessToken")
active = Status.objects.get(name="Active")
Provider = Contract._meta.get_field("provider").related_model
p, _ = Provider.objects.get_or_create(name="nvd18-provider")
st = Status.objects.get_for_model(Contract).first()
for i in range(3):
    Contract.objects.get_or_create(name=f"nvd18-contract-{i}", defaults=dict(provider=p, status=st,
        start_date=datetime.date(2026, 1, 1), end_date=datetime.date(2027, 1, 1)))
lt, _ = LocationType.objects.get_or_create(name="nvd18-site")
lt.content_types.add(*__import__("django.contrib.contenttypes.models", fromlist=["x"]).ContentType.objects.filter(app_label="dcim", model="device"))
loc, _ = Location.objects.get_or_create(name="nvd18-loc", defaults=dict(location_type=lt, status=active))
m, _ = Manufacturer.objects.get_or_create(name="nvd18-maker")
dt, _ = DeviceType.objects.get_or_create(model="nvd18-box", defaults=dict(manufacturer=m))
role, _ = Role.objects.get_or_create(name="nvd18-role")
role.content_types.add(*__import__("django.contrib.contenttypes.models", fromlist=["x"]).ContentType.objects.filter(app_label="dcim", model="device"))
for i in range(2):
    d, _ = Device.objects.get_or_create(name=f"nvd18-dev-{i}", defaults=dict(device_type=dt, location=loc, role=role, status=active))
    for day in range(1, COVERAGE_DAYS + 1):
        CoverageSnapshot.objects.get_or_create(device=d, snapshot_date=datetime.date(2026, 5, day), defaults=dict(was_covered=day % 2 == 0))
for day in range(1, 6):
    fields = {f.name: 0 for f in CostSnapshot._meta.concrete_fields if f.get_internal_type() in ("DecimalField", "PositiveIntegerField", "IntegerField")}
    CostSnapshot.objects.get_or_create(snapshot_date=datetime.date(2026, 5, day), currency="USD", defaults=fields)
u = get_user_model().objects.filter(is_superuser=True).first()
ICal.objects.get_or_create(user=u)
"""


def sh(*args, timeout=900):
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise AssertionError(f"{args} failed ({p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    return p.stdout


class Rollback(nvdtest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not OLD_SITE:
            nvdtest.skip(f"the test bed's venv of {OLD} is not prepared (nvd-testbed prepare)")
        up = sh(nvdtest.TESTBED, "up", "--name", NAME, "--port", str(nvdtest.free_port()), "--private-venv")
        cls.env = nvdtest.read_instance_env(up.strip().splitlines()[-1])
        cls.venv = cls.env["NVD_TB_VENV"]
        cls.conf = nvdtest.write_config(cls.env, os.path.join(cls.tmp, "rb.conf"), {("checks", "enable"): None})

    @classmethod
    def tearDownClass(cls):
        subprocess.run([nvdtest.TESTBED, "down", "--name", NAME], capture_output=True, timeout=300)

    # --- helpers
    def psql(self, sql):
        return sh("psql", "-h", "127.0.0.1", "-U", "postgres", "-d", self.env["NVD_TB_DB"], "-qAtc", sql).strip()

    def count(self, table, column=None):
        where = f" WHERE {column} IS NOT NULL" if column else ""
        return int(self.psql(f"SELECT count(*) FROM {table}{where}"))

    def manage(self, *args):
        return sh(nvdtest.TESTBED, "manage", "--name", NAME, "--", *args)

    def pip(self, version):
        sh(os.path.join(self.venv, "bin", "pip"), "install", "-q", "--no-deps", f"{PKG}=={version}")

    def restart(self):
        sh(nvdtest.TESTBED, "restart", "--name", NAME)

    def make_rows(self, days=3):
        self.manage("shell", "--command", f"COVERAGE_DAYS = {days}\n" + MAKE_ROWS)

    def verify(self):
        return nvdtest.Run(self.conf)

    def ctl(self, *args):
        # pip's cache is the test's (empty unless a test puts a wheel there).
        if not getattr(type(self), "pip_cache", None):
            type(self).pip_cache = tempfile.mkdtemp(prefix="nvd-pip-cache-")
            type(self).addClassCleanup(shutil.rmtree, type(self).pip_cache, ignore_errors=True)
        p = subprocess.run([CTL, "-c", self.conf, *args], capture_output=True, text=True, timeout=600,
                           env={**os.environ, "PIP_CACHE_DIR": self.pip_cache})
        return p

    def rollback_json(self, version, *extra):
        p = self.ctl("rollback", PKG, version, "--json", *extra)
        self.assertIn(p.returncode, (0, 1), p.stdout + p.stderr)
        return json.loads(p.stdout)

    def roll_back_to_old(self, target):
        """The rollback's commands in the printed order, then a verification that must pass."""
        self.manage("migrate", APP, target)
        self.pip(OLD)
        self.manage("migrate")
        self.manage("collectstatic", "--noinput")
        self.restart()
        r = self.verify()
        self.assertEqual(r.code, 0, r.dump())
        return r

    def rollback_entry(self, run):
        found = [e for e in run.entries if e.get("MESSAGE_ID") == nvdtest.MSG["rollback"]]
        self.assertEqual(len(found), 1, run.dump())
        return found[0]

    # --- the tests, in order
    def test_1_pass_records_the_release_leaf(self):
        self.make_rows()
        r = self.verify()
        self.assertEqual(r.code, 0, r.dump())
        with open(os.path.join(nvdtest.state_dir_for(self.conf), "default", f"{PKG}.json")) as f:
            state = json.load(f)
        self.assertEqual(state["releases"][NEW]["leaves"], [T0010])
        self.assertEqual(state["releases"][NEW]["reversal"][T0010]["tables"], TABLES_0010)

    def test_2_rollback_names_target_and_counts(self):
        # The state knows no 2026.5.12 yet: the target is unknown, and it says how to find it.
        p = self.ctl("rollback", PKG, OLD)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("the target migration is unknown", p.stdout)
        self.assertIn(f"download --no-deps -d DIR {PKG}=={OLD}", p.stdout)
        # A wheel of that release in pip's cache (where pip keeps what it built): found there.
        wheels = os.path.join(self.pip_cache, "wheels", "ab", "cd", "ef", "0123456789")
        os.makedirs(wheels)
        sh(os.path.join(self.venv, "bin", "pip"), "download", "-q", "--no-deps", "-d", wheels, f"{PKG}=={OLD}")
        self.assertTrue([f for f in os.listdir(wheels) if f.endswith(".whl")], os.listdir(wheels))
        doc = self.rollback_json(OLD)
        self.assertEqual(doc["target"], T0009, doc)
        self.assertIn(wheels, doc["target_source"], doc)
        shutil.rmtree(os.path.join(self.pip_cache, "wheels"))
        # From the older release's files (here: its installed tree).
        doc = self.rollback_json(OLD, f"--from={OLD_SITE[0]}")
        self.assertEqual(doc["target"], T0009, doc)
        self.assertEqual(doc["installed_version"], NEW)
        self.assertEqual([s["migration"] for s in doc["plan"]], [f"{APP}.{T0010}"])
        drops = {d["table"]: d["rows"] for d in doc["plan"][0]["drops"]}
        self.assertEqual(drops, {t: self.count(t) for t in TABLES_0010})
        self.assertEqual(drops["nautobot_contract_models_coveragesnapshot"], 6)
        self.assertEqual(drops["nautobot_contract_models_icalaccesstoken"], 1)
        self.assertEqual(doc["irreversible"], [])
        self.assertEqual(doc["profile"], [])  # 0008 is not reached
        server = self.env["NVD_TB_SERVER"]
        self.assertEqual(doc["commands"], [
            f"{server} migrate {APP} {T0009}",
            f"{os.path.join(self.venv, 'bin', 'pip')} install {PKG}=={OLD}",
            f"{server} migrate",
            f"{server} collectstatic --noinput",
            "systemctl restart nautobot.service nautobot-worker.service nautobot-scheduler.service"])
        text = self.ctl("rollback", PKG, OLD, f"--from={OLD_SITE[0]}").stdout
        self.assertIn(f"Target: {APP} {T0009}", text)
        self.assertIn("drops table nautobot_contract_models_coveragesnapshot: 6 row(s)", text)

    def test_3_below_0008_counts_the_cost_history(self):
        # An older release's files: its migrations up to 0007.
        old = os.path.join(self.tmp, "app-0007", APP, "migrations")
        os.makedirs(old, exist_ok=True)
        for f in glob.glob(os.path.join(self.env["NVD_TB_SITE_PACKAGES"], APP, "migrations", "000[1-7]_*.py")):
            shutil.copy(f, old)
        doc = self.rollback_json("2026.5.9", f"--from={os.path.dirname(os.path.dirname(old))}")
        self.assertEqual(doc["target"], "0007_contract_billing_period", doc)
        steps = {s["migration"]: s for s in doc["plan"]}
        self.assertEqual(list(steps), [f"{APP}.{T0010}", f"{APP}.{T0009}", f"{APP}.0008_costsnapshot"])
        cost = steps[f"{APP}.0008_costsnapshot"]["drops"]
        self.assertEqual(cost, [{"kind": "table", "table": COST, "rows": self.count(COST)}])
        self.assertEqual(self.count(COST), 5)
        self.assertEqual(doc["profile"], ["going below 0008_costsnapshot drops the captured cost history"])
        self.assertEqual(doc["totals"]["rows"], 5 + 6 + 1)

    def test_4_commands_by_hand_end_in_a_pass_on_the_old_release(self):
        doc = self.rollback_json(OLD, f"--from={OLD_SITE[0]}")
        # The commands as printed, in order (the restart: the test bed's own).
        r = self.roll_back_to_old(doc["target"])
        self.assertIn("passed", r.stdout + json.dumps(r.entries))
        entry = self.rollback_entry(r)
        self.assertIn("it was migrated back first, as the guide says", entry["MESSAGE"])
        for t in TABLES_0010:
            self.assertEqual(self.psql(f"SELECT to_regclass('{t}') IS NULL"), "t")
        # Now the state knows 2026.5.12's leaf: the target needs no files any more.
        doc = self.rollback_json(OLD)
        self.assertEqual(doc["target"], T0009)
        self.assertEqual(doc["plan"], [])

    def test_5_pip_only_rollback_and_its_recovery(self):
        # Back on 2026.5.17, done right, with new rows in 0010's tables.
        self.pip(NEW)
        self.manage("migrate")
        self.manage("collectstatic", "--noinput")
        self.restart()
        self.make_rows(days=4)
        r = self.verify()
        self.assertEqual(r.code, 0, r.dump())
        # The wrong order: pip only.
        self.pip(OLD)
        r = self.verify()
        self.assertEqual(r.code, 1, r.dump())
        e = self.assertResult(r, "database", "fail")
        self.assertIn(f"Recover: 1. pip install {PKG}=={NEW}; 2. nautobot-server migrate {APP} {T0009}; "
                      f"3. pip install {PKG}=={OLD}; 4. nautobot-server migrate; nautobot-server collectstatic --noinput; "
                      "5. systemctl restart nautobot.service nautobot-worker.service nautobot-scheduler.service",
                      e["NVD_REASON"], r.dump())
        cov, ical = self.count(TABLES_0010[1]), self.count(TABLES_0010[0])
        self.assertEqual(cov, 8)
        self.assertIn(f"Step 2 drops: table {TABLES_0010[0]} ({ical} rows), table {TABLES_0010[1]} ({cov} rows)",
                      e["NVD_REASON"])
        self.assertIn(f"migrating {APP} back to {T0009} drops table {TABLES_0010[1]}: {cov} row(s) (recorded by {NEW}'s verification)",
                      r.findings("database"))
        entry = self.rollback_entry(r)
        self.assertEqual(entry.get("NVD_ROLLBACK_TARGET"), T0009)
        drops = entry["NVD_ROLLBACK_DROPS"]
        drops = drops if isinstance(drops, list) else [drops]
        self.assertIn(f"migrating {APP} back to {T0009} drops table {TABLES_0010[1]}: {cov} row(s) (recorded by {NEW}'s verification)", drops)
        self.assertIn(f"Recover: 1. pip install {PKG}=={NEW}", entry["MESSAGE"])
        # Following the recovery ends in a pass.
        self.pip(NEW)
        self.roll_back_to_old(T0009)

    def test_6_a_migration_without_reverse_is_irreversible(self):
        # A scratch migration in this test's own venv copy: data only, no reverse code.
        mig = os.path.join(self.env["NVD_TB_SITE_PACKAGES"], APP, "migrations", "0010_nvd_scratch_irreversible.py")
        with open(mig, "w") as f:
            f.write("from django.db import migrations\n\n\ndef fill(apps, schema_editor):\n    pass\n\n\n"
                    "class Migration(migrations.Migration):\n"
                    f"    dependencies = [(\"{APP}\", \"{T0009}\")]\n"
                    "    operations = [migrations.RunPython(fill)]\n")
        try:
            self.manage("migrate", APP, "0010_nvd_scratch_irreversible")
            p = self.ctl("rollback", PKG, OLD, "--json")
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            doc = json.loads(p.stdout)
            self.assertEqual(doc["target"], T0009)
            self.assertEqual(doc["irreversible"], [f"{APP}.0010_nvd_scratch_irreversible: RunPython fill"])
            text = self.ctl("rollback", PKG, OLD).stdout
            self.assertIn("irreversible: RunPython fill has no reverse: the migrate back stops here", text)
            self.assertIn(f"1 operation(s) cannot be reversed: \"migrate {APP} {T0009}\" would fail", text)
        finally:
            os.unlink(mig)
            self.psql(f"DELETE FROM django_migrations WHERE app = '{APP}' AND name = '0010_nvd_scratch_irreversible'")


if __name__ == "__main__":
    nvdtest.main()
