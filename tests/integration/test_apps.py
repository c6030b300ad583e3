# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every installed app, with no [package] section (issue 8's zero configuration).

The test bed's server loads two real apps from PyPI, nautobot-contract-models
and nautobot-dns-models. With no [package] name= the daemon asks Django (one
probe, one boot) which apps it loads and verifies each on its own: its own run
id, NVD_APP, verdict and state file. [app NAME] sections turn an app off, add
expectations, or name an app the server does not load. A fault in one app fails
that app only; a version change of any app starts a verification of them all.
"""

import json
import os
import signal
import stat
import subprocess
import sys
import time

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    # Debian's package is importable by Debian's Python; meson may have found another python3.
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3", *sys.argv])
    raise RuntimeError("prometheus_client is missing: tests/testbed/install-deps installs python3-prometheus-client")

import nvdtest
from test_verifyctl import validator

ALL_APPS = {("package", "name"): None, ("package", "app-label"): None}
CTL = os.path.join(nvdtest.BUILD_DIR, "daemon", "verifyctl", "nautobot-verifyctl")


def ctl(*args):
    return subprocess.run([CTL, *args], capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "COLUMNS": "200"})


def summaries(entries):
    """The summary entry of each app's run, by package."""
    found = {}
    for e in entries:
        if e.get("NVD_CHECK") == "summary":
            found.setdefault(e["NVD_PACKAGE"], []).append(e)
    return found


def entry(entries, package, check):
    found = [e for e in entries if e.get("NVD_PACKAGE") == package and e.get("NVD_CHECK") == check]
    if len(found) != 1:
        raise AssertionError(f"expected one {check} entry of {package}, got {len(found)}")
    return found[0]


class Apps(nvdtest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.app1 = "nautobot-contract-models"
        cls.app2 = cls.tb["NVD_TB_APP2_PACKAGE"]
        cls.label2 = cls.tb["NVD_TB_APP2_LABEL"]

    def state(self, conf, package):
        path = os.path.join(nvdtest.state_dir_for(conf), "default", f"{package}.json")
        with open(path) as f:
            return json.load(f)

    def assertApp(self, run, package, verdict, check=None, result=None, reason_part=None):
        s = summaries(run.entries).get(package)
        self.assertIsNotNone(s, f"no summary of {package}\n{run.dump()}")
        self.assertEqual(len(s), 1, run.dump())
        self.assertEqual(s[0]["NVD_RESULT"], verdict, run.dump())
        if check:
            e = entry(run.entries, package, check)
            self.assertEqual(e["NVD_RESULT"], result, run.dump())
            if reason_part:
                self.assertIn(reason_part, e["NVD_REASON"], run.dump())
        return s[0]

    def test_zero_configuration_asks_the_web_server_once_per_page(self):
        # Issue 16, item 12: the HTTP checks' pages, fetched while Django boots, through one
        # cache for both apps. The test bed's uWSGI logs every request; integration tests run
        # one at a time, so what the log gains during the run is this run's.
        web_log = os.path.join(self.tb["NVD_TB_DIR"], "web.log")
        start = os.path.getsize(web_log)
        conf = self.config("once.conf", ALL_APPS)
        r = nvdtest.Run(conf, expect_entries=2 * nvdtest.RUN_ENTRIES)
        self.assertEqual(r.code, 0, r.dump())
        self.assertEqual(sorted(summaries(r.entries)), sorted([self.app1, self.app2]), r.dump())
        with open(web_log, errors="replace") as f:
            f.seek(start)
            requests = [line.split("] ", 2)[2].split(" =>")[0] for line in f
                        if line.startswith("[pid:") and line.count("] ") >= 2]
        for page in ("GET /api/status/", "GET /api/extras/jobs/?limit=1000", "GET /login/", "POST /login/", "GET /"):
            self.assertEqual(requests.count(page), 1, f"{page}: {requests}")
        # Whether the web server loads each app's Job: asked once per Job (8 of the two apps).
        variables = [q for q in requests if q.startswith("GET /api/extras/jobs/") and q.endswith("/variables/")]
        self.assertGreaterEqual(len(variables), 8, requests)
        self.assertEqual(len(variables), len(set(variables)), requests)

    def test_zero_configuration_verifies_every_app_with_one_django_boot(self):
        # nautobot-server, counted: every check of both apps from one Django boot.
        bindir = os.path.join(self.tmp, "bin")
        os.makedirs(bindir, exist_ok=True)
        log = os.path.join(self.tmp, "server-calls")
        wrapper = os.path.join(bindir, "nautobot-server")
        with open(wrapper, "w") as f:
            f.write(f'#!/bin/sh\necho "$1" >> {log}\nexec {self.tb["NVD_TB_SERVER"]} "$@"\n')
        os.chmod(wrapper, 0o755)
        os.chmod(self.tmp, os.stat(self.tmp).st_mode | stat.S_IXOTH)
        prom = os.path.join(self.tmp, "nvd.prom")
        conf = self.config("all.conf", {**ALL_APPS, ("nautobot", "server"): wrapper,
                                        ("report", "prometheus-textfile"): prom})
        r = nvdtest.Run(conf, expect_entries=2 * nvdtest.RUN_ENTRIES)
        self.assertEqual(r.code, 0, r.dump())
        runs = summaries(r.entries)
        self.assertEqual(sorted(runs), sorted([self.app1, self.app2]), r.dump())
        one = self.assertApp(r, self.app1, "pass")
        two = self.assertApp(r, self.app2, "pass")
        self.assertEqual(one["NVD_APP"], "nautobot_contract_models")
        self.assertEqual(two["NVD_APP"], self.label2)
        self.assertEqual(two["NVD_VERSION"], self.tb["NVD_TB_APP2_VERSION"])
        self.assertNotEqual(one["NVD_RUN_ID"], two["NVD_RUN_ID"])  # each app its own run
        # Every check entry carries its app; each app's expectations come from its own code.
        for e in r.entries:
            if "NVD_CHECK" in e:
                self.assertIn(e["NVD_APP"], ("nautobot_contract_models", self.label2))
        self.assertIn("expected Jobs are installed", entry(r.entries, self.app1, "jobs")["NVD_REASON"])
        self.assertIn("all 1 expected Jobs are installed", entry(r.entries, self.app2, "jobs")["NVD_REASON"])
        self.assertIn("(0 declared", entry(r.entries, self.app2, "panels")["NVD_REASON"])
        self.assertIn("migrations of 'nautobot_dns_models' are applied",
                      entry(r.entries, self.app2, "database")["NVD_REASON"])
        # The profile of the reference app still speaks (its Jobs page group, from [jobs] grouping=).
        self.assertIn('not "Contracts" as expected', " ".join(
            entry(r.entries, self.app1, "jobs").get("NVD_FINDING", [])))
        with open(log) as f:
            calls = f.read().split()
        self.assertEqual(calls, ["shell"], "one nautobot-server (the probe) for both apps")
        # State: per app (with its label), and Nautobot's once.
        self.assertEqual(self.state(conf, self.app1)["app_label"], "nautobot_contract_models")
        self.assertEqual(self.state(conf, self.app2)["app_label"], self.label2)
        self.assertEqual(self.state(conf, self.app2)["verdict"], "pass")
        self.assertEqual(self.state(conf, "nautobot")["verdict"], "pass")
        self.assertNotIn("app_label", self.state(conf, "nautobot"))
        status = [m for m in r.messages if "STATUS=Verified" in m]
        self.assertTrue(any("2 apps:" in m for m in status), r.messages)
        # node_exporter's file: one series per app, as a real parser reads it.
        with open(prom) as f:
            families = {fam.name: fam for fam in text_string_to_metric_families(f.read())}
        passing = {s.labels["package"] for s in families["nautobot_verifyd_verification_result"].samples
                   if s.labels["result"] == "pass" and s.value == 1}
        self.assertEqual(passing, {self.app1, self.app2})
        # The admin's view: both apps, one line saying so.
        st = ctl("-c", conf, "status")
        self.assertEqual(st.returncode, 0, st.stdout + st.stderr)
        self.assertIn("default: 2 apps verified at", st.stdout)
        self.assertRegex(st.stdout, rf"\n  {self.app2} +{self.tb['NVD_TB_APP2_VERSION']} +{self.tb['NVD_TB_APP2_VERSION']} +pass")

    def test_app_turned_off(self):
        conf = self.config("off.conf", {**ALL_APPS, ("checks", "enable"): "versions, system",
                                        (f"app {self.app2}", "verify"): "no"})
        r = nvdtest.Run(conf)
        self.assertEqual(r.code, 0, r.dump())
        self.assertEqual(sorted(summaries(r.entries)), [self.app1], r.dump())
        self.assertFalse(os.path.exists(os.path.join(nvdtest.state_dir_for(conf), "default", f"{self.app2}.json")))

    def test_fault_in_one_app_fails_that_app_only(self):
        conf = self.config("fault.conf", {**ALL_APPS, ("checks", "enable"): "versions, system, jobs",
                                          (f"app {self.app2}", "jobs"): "NoSuchJob"})
        r = nvdtest.Run(conf, expect_entries=2 * nvdtest.RUN_ENTRIES)
        self.assertEqual(r.code, 1, r.dump())
        self.assertApp(r, self.app2, "fail", "jobs", "fail", "missing: NoSuchJob")
        self.assertApp(r, self.app1, "pass", "jobs", "pass")
        status = [m for m in r.messages if "STATUS=Verification FAILED" in m]
        self.assertTrue(any(f"{self.app2} {self.tb['NVD_TB_APP2_VERSION']} FAILED (jobs)" in m for m in status),
                        r.messages)
        self.assertEqual(self.state(conf, self.app2)["verdict"], "fail")
        self.assertEqual(self.state(conf, self.app1)["verdict"], "pass")
        st = ctl("-c", conf, "status")
        self.assertEqual(st.returncode, 1, st.stdout + st.stderr)
        self.assertIn(f"default: {self.app2} {self.tb['NVD_TB_APP2_VERSION']} FAILED (jobs)", st.stdout)
        self.assertIn(f"  {self.app2} jobs FAIL: 1 of 2 expected Jobs are not usable: missing: NoSuchJob", st.stdout)
        nagios = ctl("-c", conf, "status", "--nagios")
        self.assertEqual(nagios.returncode, 2, nagios.stdout)
        summary = nagios.stdout.split(" | ")[0]
        self.assertIn(f"CRITICAL - default: {self.app2}", summary)
        self.assertNotIn(self.app1, summary)  # the app that passed goes without saying

    def test_verifyctl_verify_every_app(self):
        # nautobot-verifyctl verify without systemd (the daemon as its child): every app's run,
        # in one document; the exit status is the worst verdict.
        conf = self.config("ctl.conf", {**ALL_APPS, ("checks", "enable"): "versions, system, jobs",
                                        (f"app {self.app2}", "jobs"): "NoSuchJob"})
        p = subprocess.run([CTL, "-c", conf, "verify", "--json", "--daemon", nvdtest.DAEMON],
                           capture_output=True, text=True, timeout=600,
                           env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        doc = json.loads(p.stdout)
        validator()(doc)
        self.assertEqual(doc["outcome"], "verdict")
        self.assertEqual({r["package"]: r["verdict"] for r in doc["runs"]}, {self.app1: "pass", self.app2: "fail"})
        self.assertEqual(doc["run"], doc["runs"][0])
        self.assertIn("verification FAILED", p.stderr)  # the daemon's tables, on stderr
        # --wait, text: the daemon in this process, its table for each app.
        p = subprocess.run([CTL, "-c", conf, "verify", "--wait", "--daemon", nvdtest.DAEMON],
                           capture_output=True, text=True, timeout=600,
                           env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn(f"{self.app1} 2026.5.17 at ", p.stdout)
        self.assertIn(f"{self.app2} {self.tb['NVD_TB_APP2_VERSION']} at ", p.stdout)

    def test_configured_app_the_server_does_not_load(self):
        # An app the configuration names but the server does not load (not installed, or
        # dropped from PLUGINS): verified all the same, and found missing.
        conf = self.config("missing.conf", {**ALL_APPS, ("checks", "enable"): "versions, system",
                                            ("app nautobot-golden-config", "verify"): "yes"})
        r = nvdtest.Run(conf, expect_entries=3 * nvdtest.RUN_ENTRIES)
        self.assertNotEqual(r.code, 0, r.dump())
        self.assertEqual(sorted(summaries(r.entries)), sorted([self.app1, self.app2, "nautobot-golden-config"]))
        self.assertApp(r, self.app1, "pass")
        self.assertApp(r, self.app2, "pass")
        self.assertApp(r, "nautobot-golden-config", "fail", "system", "fail",
                       "the server does not load app 'nautobot_golden_config'")

    def test_profile_with_an_error_is_refused_at_start(self):
        profiles = os.path.join(self.tmp, "profiles-bad")
        os.makedirs(profiles, exist_ok=True)
        with open(os.path.join(profiles, "nautobot-dns-models.conf"), "w") as f:
            f.write("[app]\npackage = nautobot-dns-models\nlabel = nautobot_dns_models\n\n[finding x]\n"
                    "query = DELETE FROM dns\nmessage = m\n")
        conf = self.config("badprofile.conf", {**ALL_APPS, ("checks", "profiles"): profiles})
        r = nvdtest.Run(conf, expect_entries=0)
        self.assertEqual(r.code, 78, r.dump())
        self.assertIn(f"{profiles}/nautobot-dns-models.conf:6:", r.stderr)


class OneAppUpgraded(nvdtest.TestCase):
    """pip install --upgrade nautobot-dns-models (2.2.0 -> 2.3.0) on the old release's
    server, with migrate not run: that app fails, the other passes, in one run."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The new dns release's code beside the old contract-models release, as after
        # "pip install --upgrade nautobot-dns-models" on the old server.
        cls.venv, cls.site = nvdtest.venv_with_app(os.path.join(cls.tmp, "venv"), "2026.5.12")

    def test_unapplied_migrations_of_one_app_fail_that_app_only(self):
        app2 = self.tb["NVD_TB_APP2_PACKAGE"]
        with nvdtest.extra_instance("appsold", "--app-version", "2026.5.12"):
            old = nvdtest.read_instance_env(os.path.join(os.environ.get("NVD_RUN_DIR", "/var/tmp/nvd-testbed"),
                                                         "appsold", "instance.env"))
            self.assertEqual(old["NVD_TB_APP2_VERSION"], "2.2.0")
            conf = nvdtest.write_config(old, os.path.join(self.tmp, "upgraded.conf"), {
                **ALL_APPS,
                ("nautobot", "server"): os.path.join(self.venv, "bin", "nautobot-server"),
                ("nautobot", "site-packages"): self.site,
                ("checks", "enable"): "versions, system, migrations, database",
            })
            r = nvdtest.Run(conf, expect_entries=2 * nvdtest.RUN_ENTRIES)
        self.assertEqual(r.code, 1, r.dump())
        s = summaries(r.entries)
        self.assertEqual(s[app2][0]["NVD_RESULT"], "fail", r.dump())
        self.assertEqual(s[app2][0]["NVD_VERSION"], self.tb["NVD_TB_APP2_VERSION"])
        self.assertIn("0009_alter_aaaarecord__ttl_alter_arecord__ttl_and_more",
                      entry(r.entries, app2, "migrations")["NVD_REASON"])
        self.assertEqual(entry(r.entries, app2, "database")["NVD_RESULT"], "fail", r.dump())
        # The reference app is not blamed for the other app's migrations.
        self.assertEqual(s["nautobot-contract-models"][0]["NVD_RESULT"], "pass", r.dump())
        self.assertEqual(s["nautobot-contract-models"][0]["NVD_VERSION"], "2026.5.12")
        self.assertEqual(entry(r.entries, "nautobot-contract-models", "migrations")["NVD_RESULT"], "pass")


class WatchEveryApp(nvdtest.TestCase):
    """Watch mode with no [package]: a version change of any app verifies them all."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.venv, cls.site = nvdtest.venv_with_app(os.path.join(cls.tmp, "venv"), "2026.5.17")

    def test_change_of_the_second_app_triggers(self):
        app2 = self.tb["NVD_TB_APP2_PACKAGE"]
        conf = self.config("watch.conf", {
            **ALL_APPS,
            ("nautobot", "server"): os.path.join(self.venv, "bin", "nautobot-server"),
            ("nautobot", "site-packages"): self.site,
            ("checks", "enable"): "versions",
            ("watch", "quiet-period"): "1s",
            ("watch", "settle-timeout"): "60s",
            ("watch", "upgrade-deadline"): "5s",
            ("watch", "step-interval"): "1s",
        })
        notify = nvdtest.NotifySocket()
        proc = nvdtest.start_daemon(["--watch", "--config", conf], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True,
                                    env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "NOTIFY_SOCKET": notify.path})
        try:
            def runs():
                return summaries(nvdtest.journal_entries(proc.pid, 0))

            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and len(runs()) < 2:
                time.sleep(0.5)
            first = runs()
            self.assertEqual(sorted(first), sorted(["nautobot-contract-models", app2]), first)
            subprocess.run([os.path.join(self.venv, "bin", "pip"), "install", "-q",
                            f"{app2}=={self.tb['NVD_TB_APP2_OLD_VERSION']}"],
                           check=True, capture_output=True, timeout=600)
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and sum(len(v) for v in runs().values()) < 4:
                time.sleep(0.5)
            after = runs()
            self.assertEqual([len(after[p]) for p in sorted(after)], [2, 2], after)
            self.assertEqual(after[app2][-1]["NVD_VERSION"], self.tb["NVD_TB_APP2_OLD_VERSION"])
            self.assertEqual(after[app2][-1].get("NVD_TRIGGER_PACKAGE", app2), app2)
            changes = [e for e in nvdtest.journal_entries(proc.pid, 0)
                       if "NVD_CHANGE" in e and "NVD_CHECK" not in e and e.get("NVD_PACKAGE") == app2]
            self.assertTrue(changes, "the second app's change was not reported")
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=60)
            notify.close()
        self.assertEqual(proc.returncode, 0, err)


if __name__ == "__main__":
    nvdtest.main()
