# SPDX-License-Identifier: LGPL-2.1-or-later
"""Verdicts that hold on every path (issue 16, items 1, 2, 4, 5, 7, 8).

The zero configuration an admin starts with (no [package] name=: every app the
server loads), when the probe cannot start or is missing; what the journal
shows at each priority; and what the last good run saw: an app that is no
longer loaded, and a panel gone under the same release.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import time
import nvdtest

EVERY_APP = {("package", "name"): None, ("package", "app-label"): None}


class FirstRun(nvdtest.TestCase):
    def env_file(self, name, extra_lines):
        """The test bed's environment file plus lines."""
        path = os.path.join(self.tmp, name)
        shutil.copyfile(self.tb["NVD_TB_ENV_FILE"], path)
        with open(path, "a") as f:
            f.write("".join(line + "\n" for line in extra_lines))
        return path

    def summaries(self, run):
        return {e["NVD_PACKAGE"]: e for e in run.entries if e.get("NVD_CHECK") == "summary"}

    def entry(self, run, package, check):
        found = [e for e in run.entries if e.get("NVD_PACKAGE") == package and e.get("NVD_CHECK") == check]
        self.assertEqual(len(found), 1, run.dump())
        return found[0]

    # --- item 1 ----------------------------------------------------------------------------
    def test_probe_that_cannot_start_is_said_not_a_crash(self):
        # Every app, nothing verified before, and an environment file nautobot-server cannot
        # be given: Django cannot be asked which apps it loads (was: SIGSEGV, exit 139).
        env = self.env_file("broken.env", ["this is not KEY=VALUE"])
        conf = self.config("broken.conf", {**EVERY_APP, ("nautobot", "environment-file"): env})
        r = nvdtest.Run(conf, expect_entries=0)
        self.assertEqual(r.code, 2, r.dump())
        self.assertIn("Not verified: no Nautobot app to verify: Django could not be asked which apps the server "
                      f"loads (environment file {env}:", r.stderr)

    # --- item 3 ----------------------------------------------------------------------------
    def test_panels_with_unknown_expectations_cannot_pass(self):
        # The probe cannot run (an environment file nautobot-server cannot be given), and
        # panels= names none: nothing to judge the home page by (was: "all 0 expected panels").
        env = self.env_file("broken3.env", ["this is not KEY=VALUE"])
        r = nvdtest.Run(self.config("unknown.conf", {("checks", "enable"): "panels",
                                                     ("nautobot", "environment-file"): env}))
        self.assertEqual(r.code, 2, r.dump())
        self.assertResult(r, "panels", "error", "and panels= names none: there is nothing to judge the home page by")

    # --- item 2 ----------------------------------------------------------------------------
    def test_missing_probe_is_a_configuration_error(self):
        missing = os.path.join(self.tmp, "no-such-probe.py")
        conf = self.config("noprobe.conf", {**EVERY_APP, ("nautobot", "probe"): missing})
        for args in (["--check-config"], ["--once"]):
            p = subprocess.run([nvdtest.DAEMON, *args, "--config", conf], capture_output=True, text=True,
                               timeout=120)
            self.assertEqual(p.returncode, 78, p.stdout + p.stderr)
            self.assertIn(f"[nautobot] probe={missing}: No such file or directory: the Django probe", p.stderr)

    # --- item 4 ----------------------------------------------------------------------------
    def test_duration_is_what_the_admin_waited(self):
        conf = self.config("wait.conf", {**EVERY_APP, ("checks", "enable"): "versions, system"})
        t0 = time.monotonic()
        r = nvdtest.Run(conf, expect_entries=2 * nvdtest.RUN_ENTRIES)
        wall = time.monotonic() - t0
        self.assertEqual(r.code, 0, r.dump())
        for package, s in self.summaries(r).items():
            took = int(s["NVD_DURATION_USEC"]) / 1e6
            # The Django boot that found the apps is most of it: the run reports it.
            self.assertGreater(took, 0.7 * wall, f"{package}: reported {took:.1f} s of {wall:.1f} s\n{r.dump()}")
            self.assertLessEqual(took, wall)

    # --- item 5 ----------------------------------------------------------------------------
    def test_errors_reach_the_journal_as_errors(self):
        # stderr connected to the journal as systemd connects a service's (JOURNAL_STREAM).
        ident = f"nvd-it-stream-{os.getpid()}"
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect("/run/systemd/journal/stdout")
        s.sendall(f"{ident}\n\n6\n1\n0\n0\n0\n".encode())  # id, unit, priority 6, level prefix on
        st = os.fstat(s.fileno())
        env = self.env_file("broken5.env", ["this is not KEY=VALUE"])
        conf = self.config("prio.conf", {**EVERY_APP, ("nautobot", "environment-file"): env})
        t0 = time.time()
        p = subprocess.run([nvdtest.DAEMON, "--once", "--quiet", "--config", conf], stderr=s.fileno(),
                           stdout=subprocess.DEVNULL, timeout=120,
                           env={"PATH": "/usr/bin:/bin", "JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"})
        s.close()
        self.assertEqual(p.returncode, 2)
        deadline = time.monotonic() + 10
        while True:
            out = subprocess.run(["journalctl", "--no-pager", "-o", "json", f"--since=@{int(t0) - 1}",
                                  f"SYSLOG_IDENTIFIER={ident}"], capture_output=True, text=True, timeout=30).stdout
            lines = [json.loads(x) for x in out.splitlines() if x.strip()]
            found = [e for e in lines if "Not verified" in e.get("MESSAGE", "")]
            if found or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(len(found), 1, lines)
        self.assertEqual(found[0]["PRIORITY"], "3", found[0])  # err, as journalctl -p err shows it
        self.assertTrue(found[0]["MESSAGE"].startswith("Not verified:"), found[0])  # the prefix was taken

    # --- item 7 ----------------------------------------------------------------------------
    def test_app_verified_before_and_no_longer_loaded_fails(self):
        app2, label2 = self.tb["NVD_TB_APP2_PACKAGE"], self.tb["NVD_TB_APP2_LABEL"]
        conf = self.config("gone.conf", {**EVERY_APP, ("checks", "enable"): "versions, system"})
        r = nvdtest.Run(conf, expect_entries=2 * nvdtest.RUN_ENTRIES)
        self.assertEqual(r.code, 0, r.dump())
        # The admin takes the second app out of PLUGINS.
        env = self.env_file("one-app.env", ["NVD_PLUGINS=nautobot_contract_models"])
        conf = self.config("gone.conf", {**EVERY_APP, ("checks", "enable"): "versions, system",
                                         ("nautobot", "environment-file"): env})
        r = nvdtest.Run(conf, expect_entries=2 * nvdtest.RUN_ENTRIES)
        self.assertEqual(r.code, 1, r.dump())
        self.assertEqual(self.summaries(r)["nautobot-contract-models"]["NVD_RESULT"], "pass", r.dump())
        self.assertEqual(self.summaries(r)[app2]["NVD_RESULT"], "fail", r.dump())
        reason = self.entry(r, app2, "system")["NVD_REASON"]
        self.assertIn(f"the server does not load app '{label2}' ({app2})", reason)
        self.assertRegex(reason, rf"last verified here: {re.escape(self.tb['NVD_TB_APP2_VERSION'])} on "
                                 r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \w+ \(pass\)")
        self.assertIn(f"[app {app2}] verify = no", reason)

    # --- item 8 ----------------------------------------------------------------------------
    def test_panel_gone_under_the_same_release_fails(self):
        conf = self.config("same.conf", {("checks", "enable"): "panels"})
        r = nvdtest.Run(conf)
        self.assertEqual(r.code, 0, r.dump())
        # The same release's code edited in place: a panel renamed, on the web server and on disk.
        scratch = os.path.join(self.tmp, "edited")
        app = os.path.join(scratch, "nautobot_contract_models")
        shutil.copytree(os.path.join(self.tb["NVD_TB_SITE_PACKAGES"], "nautobot_contract_models"), app,
                        ignore=shutil.ignore_patterns("__pycache__"))
        path = os.path.join(app, "homepage.py")
        with open(path) as f:
            text, n = re.subn(r'name="Vendor Concentration"', 'name="Vendor Share"', f.read())
        self.assertEqual(n, 1)
        with open(path, "w") as f:
            f.write(text)
        env = self.env_file("edited.env", [f"PYTHONPATH={scratch}"])
        with nvdtest.extra_instance("edited", "--env", f"PYTHONPATH={scratch}") as url:
            extra = {("checks", "enable"): "panels", ("nautobot", "url"): url,
                     ("nautobot", "environment-file"): env}
            r = nvdtest.Run(self.config("same.conf", extra))
            self.assertEqual(r.code, 1, r.dump())
            self.assertResult(r, "panels", "fail", "panels the last passing verification of this same release "
                                                   f"({self.tb['NVD_TB_APP_VERSION']}) saw are")
            self.assertIn("Vendor Concentration", r.check("panels")["NVD_REASON"])
            self.assertIn("pip install --force-reinstall nautobot-contract-models==", r.check("panels")["NVD_REASON"])
            # After a version change the same difference is a release's doing: a finding, and a pass.
            state = os.path.join(nvdtest.state_dir_for(self.config("same.conf", extra)), "default",
                                 "nautobot-contract-models.json")
            with open(state) as f:
                doc = json.load(f)
            doc["baseline"]["version"] = "2026.5.12"
            with open(state, "w") as f:
                json.dump(doc, f)
            r = nvdtest.Run(self.config("same.conf", extra))
        self.assertEqual(r.code, 0, r.dump())
        self.assertTrue(any("since the last passing verification (2026.5.12)" in f for f in r.findings("panels")),
                        r.dump())


if __name__ == "__main__":
    nvdtest.main()
