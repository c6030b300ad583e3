# SPDX-License-Identifier: LGPL-2.1-or-later
"""What only Django knows, from the one Django boot of the probe, on the real test bed.

- One nautobot-server process answers system and migrations (and the Job
  classes, the migration plan, DATABASES), where [checks] django=command
  starts one per check; both give the same verdicts.
- A Job class removed from the installed code without migrate: the database
  still lists it installed; FAIL with the fix.
- An app whose max_version does not admit the installed Nautobot: every
  nautobot-server dies with PluginImproperlyConfigured; said so.
- nautobot_config.py sets DATABASES itself, no NAUTOBOT_DB_* anywhere: the
  database check uses Django's settings and passes; when the environment file
  names another database, that is said, and Django's is the one checked.
- Nautobot itself upgraded (pip, a newer release) without migrate: its own
  migrations are unapplied; the migrations check lists them.
- The probe answers makemigrations and panels for several apps from its one
  boot (NVD_PROBE_APP_LABELS: a list, or "*" for every Nautobot app), each
  app on its own; a label no app has answers as the command line would.
- The Jobs and panels to expect come from the installed code: a healthy
  server on the old release 2026.5.12 passes with no list configured, and
  what its checks saw becomes the baseline later runs compare with.
"""

import json

import os
import re
import shutil
import subprocess
import tempfile
import nvdtest

DJANGO = {("checks", "enable"): "system, migrations, database, jobs"}
NEWER_NAUTOBOT = "3.2.7"  # on PyPI; admits the app (nautobot>=3.0,<4), adds core migrations
EVERY_APP = {("package", "name"): None, ("package", "app-label"): None}  # no [package]: every app


def read(path):
    with open(path) as f:
        return f.read()


class Probe(nvdtest.TestCase):
    def env_file(self, name, extra_lines, drop=()):
        """The test bed's environment file, less lines starting with 'drop', plus extra lines."""
        path = os.path.join(self.tmp, name)
        lines = [line for line in read(self.tb["NVD_TB_ENV_FILE"]).splitlines() if not line.startswith(tuple(drop))]
        with open(path, "w") as f:
            f.write("\n".join(lines + list(extra_lines)) + "\n")
        return path

    def scratch_copy(self, name, edit):
        """A directory holding a copy of the installed app with edit(app_dir) applied."""
        scratch = os.path.join(self.tmp, name)
        app = os.path.join(scratch, "nautobot_contract_models")
        shutil.copytree(os.path.join(self.tb["NVD_TB_SITE_PACKAGES"], "nautobot_contract_models"), app,
                        ignore=shutil.ignore_patterns("__pycache__"))
        edit(app)
        return scratch

    def scratch_app(self, name, edit):
        """An environment file putting such a copy first on PYTHONPATH."""
        return self.env_file(f"{name}.env", [f"PYTHONPATH={self.scratch_copy(name, edit)}"])

    @staticmethod
    def substitute(path, pattern, replacement, flags=0):
        """Edits the file; exactly one match is expected (returns the count for assertions)."""
        text, n = re.subn(pattern, replacement, read(path), flags=flags)
        with open(path, "w") as f:
            f.write(text)
        return n

    def run_probe(self, labels, sections="makemigrations,panels,database"):
        """The probe run by hand, as the daemon runs it: the document it writes to fd 3."""
        with tempfile.TemporaryFile() as out:
            def result_on_fd3():
                os.dup2(out.fileno(), 3)
                os.set_inheritable(3, True)

            env = {**os.environ, "NVD_PROBE": nvdtest.PROBE, "NVD_PROBE_APP_LABELS": labels,
                   "NVD_PROBE_SECTIONS": sections}
            p = subprocess.run([nvdtest.TESTBED, "manage", "--name", self.tb["NVD_TB_NAME"], "--", "shell",
                                "--no-startup", "--no-imports", "--verbosity=0", "--command",
                                'import os, runpy; runpy.run_path(os.environ["NVD_PROBE"], run_name="nvd_probe")'],
                               env=env, preexec_fn=result_on_fd3, close_fds=False, capture_output=True, text=True,
                               timeout=300)
            self.assertEqual(p.returncode, 0, p.stderr)
            out.seek(0)
            return json.loads(out.read().split(b"\0")[0])

    def test_probe_answers_every_app(self):
        app, app2 = "nautobot_contract_models", self.tb["NVD_TB_APP2_LABEL"]
        doc = self.run_probe("*")
        self.assertEqual(doc["format"], 2)
        self.assertEqual(sorted(doc["makemigrations"]), sorted([app, app2]), doc["makemigrations"])
        for label in (app, app2):
            self.assertEqual(doc["makemigrations"][label]["exit_status"], 0, doc["makemigrations"])
            self.assertIn(f"No changes detected in app '{label}'", doc["makemigrations"][label]["stdout"])
        self.assertEqual(sorted(doc["panels"]), sorted([app, app2]), doc["panels"])
        self.assertIn("Vendor Concentration", [p["name"] for p in doc["panels"][app]])
        self.assertEqual(len(doc["panels"][app]), 6)
        self.assertEqual(doc["panels"][app2], [])  # it declares none
        # A list, in its order, once each; a label no app has: as the command line says it.
        doc = self.run_probe(f"{app2}, nosuchapp,{app2}")
        self.assertEqual(list(doc["makemigrations"]), [app2, "nosuchapp"])
        self.assertEqual(doc["makemigrations"]["nosuchapp"]["exit_status"], 2)
        self.assertIn("No installed app with label 'nosuchapp'", doc["makemigrations"]["nosuchapp"]["stderr"])
        self.assertEqual(doc["panels"]["nosuchapp"], {"error": "LookupError: No installed app with label 'nosuchapp'."})
        self.assertEqual(doc["panels"][app2], [])
        # None at all: the sections by app say so as a whole; the others stand.
        doc = self.run_probe("")
        self.assertEqual(doc["makemigrations"], {"error": "ValueError: no app label given"})
        self.assertEqual(doc["panels"], {"error": "ValueError: no app label given"})
        self.assertEqual(doc["database"]["name"], self.tb["NVD_TB_DB"])

    def test_one_boot_and_command_mode_agree(self):
        probe = nvdtest.Run(self.config("probe.conf", DJANGO))
        command = nvdtest.Run(self.config("command.conf", {**DJANGO, ("checks", "django"): "command"}))
        for r in (probe, command):
            self.assertEqual(r.code, 0, r.dump())
        for check in ("system", "migrations", "database", "jobs"):
            self.assertEqual(probe.check(check)["NVD_RESULT"], command.check(check)["NVD_RESULT"], check)
        self.assertEqual(probe.check("system")["NVD_REASON"], command.check("system")["NVD_REASON"])
        self.assertIn("every migration of every app is applied", probe.check("migrations")["NVD_REASON"])
        self.assertEqual(command.check("migrations")["NVD_REASON"], "No changes detected in app 'nautobot_contract_models'")

    def test_job_class_removed_without_migrate(self):
        env = self.scratch_app("nojob", lambda app: self.assertEqual(self.substitute(
            os.path.join(app, "jobs.py"), r"^    CoverageSnapshotJob,\n", "", re.M), 1,
            "register_jobs(...) no longer lists CoverageSnapshotJob"))
        r = nvdtest.Run(self.config("nojob.conf", {**DJANGO, ("nautobot", "environment-file"): env,
                                                   ("package", "jobs"): "RenewalCheckJob"}))
        self.assertEqual(r.code, 1, r.dump())
        self.assertResult(r, "jobs", "fail", "the database lists 1 Job(s) of nautobot_contract_models.jobs as installed "
                                             "that the installed code no longer defines (CoverageSnapshotJob)")
        self.assertIn('run "nautobot-server migrate"', r.check("jobs")["NVD_REASON"])
        self.assertEqual(r.check("system")["NVD_RESULT"], "pass")

    def test_old_release_passes_with_no_lists(self):
        # The guide's starting point, with a configuration that names no Job and no panel.
        with nvdtest.extra_instance("old512", "--app-version", "2026.5.12"):
            old = nvdtest.read_instance_env(os.path.join(os.environ.get("NVD_RUN_DIR", "/var/tmp/nvd-testbed"),
                                                         "old512", "instance.env"))
            conf = nvdtest.write_config(old, os.path.join(self.tmp, "old512.conf"),
                                        {("checks", "enable"): "system, migrations, database, running, jobs, panels"})
            r = nvdtest.Run(conf)
        self.assertEqual(r.code, 0, r.dump())
        self.assertEqual(r.check("summary")["NVD_VERSION"], "2026.5.12")
        self.assertResult(r, "jobs", "pass", "all 6 expected Jobs are installed")
        self.assertResult(r, "panels", "pass", "all 5 expected panels are on the home page "
                                               "(5 declared by the installed nautobot-contract-models, 0 in panels=)")
        self.assertNotIn("CoverageSnapshotJob", r.check("jobs")["NVD_EVIDENCE"])  # 2026.5.17's, not this one's
        with open(os.path.join(nvdtest.state_dir_for(conf), "default", "nautobot-contract-models.json")) as f:
            baseline = json.load(f)["baseline"]
        self.assertEqual(baseline["version"], "2026.5.12")
        self.assertEqual(len(baseline["observed"]["jobs"]), 6, baseline)
        self.assertIn("RenewalCheckJob (", " ".join(baseline["observed"]["jobs"]))
        self.assertEqual(sorted(baseline["observed"]["panels"]),  # the upgrade guide's five
                         sorted(["Contracts", "Action Required", "Coverage Gaps", "Cost Summary", "Renewal Forecast"]))

    @staticmethod
    def app_results(run, check):
        """Each app's result of one check, in a run of every app."""
        return {e["NVD_PACKAGE"]: e["NVD_RESULT"] for e in run.entries if e.get("NVD_CHECK") == check}

    def app2(self, enable):
        """A configuration for the test bed's second app, nautobot-dns-models: nothing but its name."""
        package, label = self.tb["NVD_TB_APP2_PACKAGE"], self.tb["NVD_TB_APP2_LABEL"]
        return {("package", "name"): package, ("package", "app-label"): label,
                ("watch", "packages"): f"{package}, nautobot", ("checks", "enable"): enable}

    def test_second_app_verified_on_its_own(self):
        # Another real app, with no Job or panel named anywhere: its code says what to expect.
        r = nvdtest.Run(self.config("app2.conf", self.app2("versions, system, migrations, database, running, jobs, panels")))
        self.assertEqual(r.code, 0, r.dump())
        summary = r.check("summary")
        self.assertEqual((summary["NVD_PACKAGE"], summary["NVD_APP"], summary["NVD_VERSION"]),
                         (self.tb["NVD_TB_APP2_PACKAGE"], self.tb["NVD_TB_APP2_LABEL"], self.tb["NVD_TB_APP2_VERSION"]))
        self.assertResult(r, "jobs", "pass", "all 1 expected Jobs are installed")
        self.assertIn('AutoRenewDomains "', r.check("jobs")["NVD_EVIDENCE"])
        self.assertResult(r, "panels", "pass", "all 0 expected panels are on the home page (0 declared")
        self.assertResult(r, "database", "pass", "all 10 migrations of 'nautobot_dns_models' are applied")
        self.assertResult(r, "running", "pass", f"nautobot-dns-models {self.tb['NVD_TB_APP2_VERSION']}")

    def test_second_app_upgraded_without_migrate(self):
        # pip install --upgrade nautobot-dns-models (2.2.0 -> 2.3.0) on the old release's server,
        # migrate not run: that app fails, with its two migrations named; the other app's do not.
        with nvdtest.extra_instance("dnsold", "--app-version", "2026.5.12"):
            old = nvdtest.read_instance_env(os.path.join(os.environ.get("NVD_RUN_DIR", "/var/tmp/nvd-testbed"),
                                                         "dnsold", "instance.env"))
            self.assertEqual(old["NVD_TB_APP2_VERSION"], "2.2.0")
            upgraded = {("nautobot", "site-packages"): self.tb["NVD_TB_SITE_PACKAGES"]}  # 2.3.0's code
            r = nvdtest.Run(nvdtest.write_config(old, os.path.join(self.tmp, "dnsold.conf"),
                                                 {**self.app2("database"), **upgraded}))
            other = nvdtest.Run(nvdtest.write_config(
                old, os.path.join(self.tmp, "dnsold-ref.conf"),
                {("checks", "enable"): "database", ("nautobot", "site-packages"): old["NVD_TB_SITE_PACKAGES"]}))
        self.assertEqual(r.code, 1, r.dump())
        self.assertResult(r, "database", "fail", "2 migration(s) of 'nautobot_dns_models' are not applied "
                                                 "(0009_alter_aaaarecord__ttl_alter_arecord__ttl_and_more, "
                                                 "0010_aaaarecord_enabled_arecord_enabled_and_more)")
        self.assertEqual(other.code, 0, other.dump())
        self.assertResult(other, "database", "pass", "migrations of 'nautobot_contract_models' are applied")

    def test_web_server_cannot_load_a_job(self):
        # A web server whose code lacks a Job the database lists (and this host's code has):
        # the variables endpoint answers 404 for it.
        scratch = self.scratch_copy("webnojob", lambda app: self.assertEqual(self.substitute(
            os.path.join(app, "jobs.py"), r"^    CoverageSnapshotJob,\n", "", re.M), 1))
        with nvdtest.extra_instance("webnojob", "--env", f"PYTHONPATH={scratch}") as url:
            r = nvdtest.Run(self.config("webnojob.conf", {("checks", "enable"): "jobs", ("nautobot", "url"): url}))
            every = nvdtest.Run(self.config("webnojob-all.conf", {**EVERY_APP, ("checks", "enable"): "jobs",
                                                                  ("nautobot", "url"): url}),
                                expect_entries=2 * nvdtest.RUN_ENTRIES)
        self.assertEqual(r.code, 1, r.dump())
        self.assertResult(r, "jobs", "fail", "the web server cannot load 1 expected Job(s) (CoverageSnapshotJob)")
        # Every app verified (no [package]): the fault is the reference app's only.
        self.assertEqual(every.code, 1, every.dump())
        self.assertEqual(self.app_results(every, "jobs"),
                         {"nautobot-contract-models": "fail", self.tb["NVD_TB_APP2_PACKAGE"]: "pass"}, every.dump())

    def test_web_server_does_not_show_a_declared_panel(self):
        # The web server runs code whose panel has another title than the installed code declares
        # (as a web server not restarted after an upgrade that renamed or added one).
        scratch = self.scratch_copy("webpanel", lambda app: self.assertEqual(self.substitute(
            os.path.join(app, "homepage.py"), r'name="Vendor Concentration"', 'name="Vendor Concentration (old)"'),
            1, "homepage.py no longer declares the Vendor Concentration panel"))
        with nvdtest.extra_instance("webpanel", "--env", f"PYTHONPATH={scratch}") as url:
            r = nvdtest.Run(self.config("webpanel.conf", {("checks", "enable"): "panels", ("nautobot", "url"): url}))
            every = nvdtest.Run(self.config("webpanel-all.conf", {**EVERY_APP, ("checks", "enable"): "panels",
                                                                  ("nautobot", "url"): url}),
                                expect_entries=2 * nvdtest.RUN_ENTRIES)
        self.assertEqual(every.code, 1, every.dump())
        self.assertEqual(self.app_results(every, "panels"),
                         {"nautobot-contract-models": "fail", self.tb["NVD_TB_APP2_PACKAGE"]: "pass"}, every.dump())
        self.assertEqual(r.code, 1, r.dump())
        self.assertResult(r, "panels", "fail", "the installed nautobot-contract-models declares 1 panel(s) that the "
                                               "home page does not show: Vendor Concentration")

    def test_app_max_version_excludes_nautobot(self):
        env = self.scratch_app("capped", lambda app: self.assertEqual(self.substitute(
            os.path.join(app, "__init__.py"), r"^(    version = __version__\n)", r'\1    max_version = "3.0.99"\n',
            re.M), 1))
        r = nvdtest.Run(self.config("capped.conf", {**DJANGO, ("nautobot", "environment-file"): env}))
        self.assertEqual(r.code, 1, r.dump())
        for check in ("system", "migrations"):
            self.assertResult(r, check, "fail", "PluginImproperlyConfigured")
        self.assertIn("an app's min_version/max_version does not admit the installed Nautobot", r.check("system")["NVD_REASON"])
        self.assertIn("requires Nautobot maximum version 3.0.99", r.check("system")["NVD_REASON"])

    def test_databases_in_nautobot_config_only(self):
        cfg = os.path.join(self.tmp, "dbconfig.py")
        with open(cfg, "w") as f:
            f.write(read(os.path.join(self.tb["NVD_TB_ROOT"], "nautobot_config.py")) +
                    f'\nDATABASES["default"].update(NAME="{self.tb["NVD_TB_DB"]}", USER="postgres", '
                    'HOST="127.0.0.1", PORT="5432")\n')
        env = self.env_file("nodb.env", [f"NAUTOBOT_CONFIG={cfg}"], drop=("NAUTOBOT_DB_",))
        r = nvdtest.Run(self.config("nodb.conf", {**DJANGO, ("nautobot", "environment-file"): env}))
        self.assertEqual(r.code, 0, r.dump())
        self.assertIn(f"postgres@127.0.0.1:5432/{self.tb['NVD_TB_DB']}", r.check("database")["NVD_EVIDENCE"])
        # The environment file names another database: Django's is the one checked, and it is said.
        env = self.env_file("otherdb.env", [f"NAUTOBOT_CONFIG={cfg}", "NAUTOBOT_DB_NAME=postgres"],
                            drop=("NAUTOBOT_DB_NAME",))
        r = nvdtest.Run(self.config("otherdb.conf", {**DJANGO, ("nautobot", "environment-file"): env}))
        self.assertEqual(r.code, 0, r.dump())
        self.assertTrue(any(f"names database postgres on 127.0.0.1, but Django uses {self.tb['NVD_TB_DB']}" in f
                            for f in r.findings("database")), r.dump())

    def test_database_keys_win_and_a_disagreement_is_said(self):
        # [database] points the check at another database (one where the app's last four
        # migrations are not recorded); Django's plan (the probe) says all are applied.
        alt = f"nvd_it_alt_{os.getpid()}"
        migrations = sorted(f[:-3] for f in os.listdir(os.path.join(self.tb["NVD_TB_SITE_PACKAGES"],
                                                                     "nautobot_contract_models", "migrations"))
                            if re.match(r"^\d{4}_.*\.py$", f))
        psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-U", "postgres"]
        subprocess.run([*psql, "-d", "postgres", "-c", f'CREATE DATABASE "{alt}"'], check=True, timeout=60,
                       capture_output=True)
        try:
            rows = ", ".join(f"('nautobot_contract_models', '{m}', now())" for m in migrations[:-4])
            subprocess.run([*psql, "-d", alt, "-c", "CREATE TABLE django_migrations (id serial, app text, "
                            f"name text, applied timestamptz); INSERT INTO django_migrations (app, name, applied) "
                            f"VALUES {rows}"], check=True, timeout=60, capture_output=True)
            r = nvdtest.Run(self.config("alt.conf", {("checks", "enable"): "migrations, database",
                                                     ("database", "name"): alt,
                                                     ("database", "host"): "127.0.0.1"}))
        finally:
            subprocess.run([*psql, "-d", "postgres", "-c", f'DROP DATABASE IF EXISTS "{alt}" WITH (FORCE)'],
                           timeout=60, capture_output=True)
        self.assertEqual(r.code, 1, r.dump())
        self.assertResult(r, "database", "fail", "4 migration(s) of 'nautobot_contract_models' are not applied")
        self.assertEqual(r.check("migrations")["NVD_RESULT"], "pass")
        findings = r.findings("database")
        self.assertTrue(any(f"[database] names {alt} on 127.0.0.1, where Nautobot uses {self.tb['NVD_TB_DB']}" in f
                            for f in findings), r.dump())
        self.assertTrue(any("Django's migration plan and django_migrations disagree" in f for f in findings), r.dump())

    def test_nautobot_upgraded_without_migrate(self):
        venv = os.path.join(self.tmp, "venv-newer")
        subprocess.run([nvdtest.TESTBED, "venv-copy", venv], check=True, capture_output=True, timeout=300)
        subprocess.run([os.path.join(venv, "bin", "pip"), "install", "-q", "--disable-pip-version-check",
                        f"nautobot=={NEWER_NAUTOBOT}"], check=True, capture_output=True, timeout=900)
        site = subprocess.run([os.path.join(venv, "bin", "python"), "-c",
                               "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              check=True, capture_output=True, text=True).stdout.strip()
        r = nvdtest.Run(self.config("newer.conf", {
            ("checks", "enable"): "versions, system, migrations",
            ("nautobot", "server"): os.path.join(venv, "bin", "nautobot-server"),
            ("nautobot", "site-packages"): site,
        }))
        self.assertEqual(r.code, 1, r.dump())
        reason = self.assertResult(r, "migrations", "fail", "are not applied")["NVD_REASON"]
        self.assertIn('run "nautobot-server migrate"', reason)
        # Nautobot's own apps, not the reference app's.
        self.assertRegex(reason, r"\((?:dcim|extras|ipam|tenancy|users|core|circuits|virtualization|wireless|vpn|cloud|"
                                 r"data_validation|load_balancers)\.\d{4}_")
        self.assertNotIn("nautobot_contract_models.", reason)


if __name__ == "__main__":
    nvdtest.main()
