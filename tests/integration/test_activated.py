# SPDX-License-Identifier: LGPL-2.1-or-later
"""Activated mode (--if-changed): verify once per change, survive a corrupt state file."""

import json
import os
import shutil
import threading
import time
import nvdtest

WEB_ONLY = {("checks", "enable"): "jobs, panels"}


class Activated(nvdtest.TestCase):
    def run_if_changed(self, conf, *extra, expect=nvdtest.RUN_ENTRIES):
        return nvdtest.Run(conf, expect_entries=expect, args=["--if-changed", *extra])

    def test_two_runs_verify_once(self):
        conf = self.config(name="act.conf", extra=WEB_ONLY)
        first = self.run_if_changed(conf)
        self.assertEqual(first.code, 0, first.dump())
        self.assertEqual(len([e for e in first.entries if e.get("NVD_CHECK") == "summary"]), 1, first.dump())
        state = os.path.join(nvdtest.state_dir_for(conf), "default", "nautobot-contract-models.json")
        with open(state) as f:
            saved = json.load(f)
        self.assertEqual((saved["version"], saved["verdict"]), ("2026.5.17", "pass"))
        self.assertEqual([c["check"] for c in saved["report"]["checks"]], list(nvdtest.CHECKS))

        second = self.run_if_changed(conf, expect=0)
        self.assertEqual(second.code, 0, second.dump())
        entries = nvdtest.journal_entries(second.pid, 2, field="NVD_CHANGE")
        self.assertFalse([e for e in entries if "NVD_CHECK" in e], "a verification ran although nothing changed")
        unchanged = sorted(e["NVD_PACKAGE"] for e in entries if e["NVD_CHANGE"] == "none")
        self.assertEqual(unchanged, ["nautobot", "nautobot-contract-models"])
        self.assertEqual(entries[0]["MESSAGE_ID"], nvdtest.MSG["unchanged"])
        self.assertIn("nautobot-contract-models 2026.5.17: unchanged since its last verification (pass)", second.stdout)
        self.assertIn("READY=1\nSTATUS=Nothing changed since the last verification", second.messages)

        forced = self.run_if_changed(conf, "--force")
        self.assertEqual(forced.code, 0, forced.dump())
        self.assertEqual(forced.check("summary")["NVD_RESULT"], "pass")

    def test_two_instances_keep_their_own_state(self):
        # Two Nautobots on one host (the test bed on 2026.5.17, a second venv on 2026.5.12),
        # two configurations, one state directory, as nautobot-verifyd@.service sets it up.
        _, site_b = nvdtest.venv_with_app(os.path.join(self.tmp, "instance-b-venv"), "2026.5.12")
        state = os.path.join(self.tmp, "shared.state")
        only_versions = {("checks", "enable"): "versions", ("watch", "state-directory"): state}
        conf_a = self.config(name="inst-a.conf", extra={**only_versions, ("nautobot", "instance"): "a"})
        conf_b = self.config(name="inst-b.conf", extra={**only_versions, ("nautobot", "instance"): "b",
                                                         ("nautobot", "site-packages"): site_b})
        every = len(nvdtest.CHECKS) + 1
        runs = {}
        for name, conf in (("a", conf_a), ("b", conf_b)):
            runs[name] = self.run_if_changed(conf, expect=every)
            self.assertEqual(runs[name].code, 0, runs[name].dump())
            self.assertEqual(runs[name].check("summary")["NVD_INSTANCE"], name)
        self.assertEqual(runs["a"].check("summary")["NVD_VERSION"], "2026.5.17")
        self.assertEqual(runs["b"].check("summary")["NVD_VERSION"], "2026.5.12")  # b was not suppressed by a
        for name, version, site in (("a", "2026.5.17", self.tb["NVD_TB_SITE_PACKAGES"]), ("b", "2026.5.12", site_b)):
            with open(os.path.join(state, name, "nautobot-contract-models.json")) as f:
                saved = json.load(f)
            self.assertEqual((saved["version"], saved["verdict"], saved["site_packages"]), (version, "pass", site))
        for conf in (conf_a, conf_b):
            again = self.run_if_changed(conf, expect=0)
            self.assertEqual(again.code, 0, again.dump())
            self.assertIn("unchanged since its last verification (pass)", again.stdout)

        # A third configuration that reuses instance name "a" for the second Nautobot: said so,
        # verified all the same, and instance a's state is left as it was.
        conf_c = self.config(name="inst-c.conf", extra={**only_versions, ("nautobot", "instance"): "a",
                                                         ("nautobot", "site-packages"): site_b})
        clash = self.run_if_changed(conf_c, expect=every)
        self.assertEqual(clash.code, 0, clash.dump())
        self.assertEqual(clash.check("summary")["NVD_VERSION"], "2026.5.12")
        problems = [e["NVD_DETAIL"] for e in clash.entries if e.get("MESSAGE_ID") == nvdtest.MSG["state-problem"]]
        self.assertTrue(any("two configurations share one instance name" in p and site_b in p for p in problems),
                        clash.dump())
        with open(os.path.join(state, "a", "nautobot-contract-models.json")) as f:
            self.assertEqual(json.load(f)["version"], "2026.5.17")

    def test_state_of_before_instances_is_read(self):
        # 0.4 kept "<state-directory>/<package>.json"; the default instance still finds it.
        conf = self.config(name="legacy.conf", extra=WEB_ONLY)
        state_dir = nvdtest.state_dir_for(conf)
        os.makedirs(state_dir, exist_ok=True)
        nautobot = next(e for e in os.listdir(self.tb["NVD_TB_SITE_PACKAGES"])
                        if e.startswith("nautobot-") and e.endswith(".dist-info"))
        for package, version in (("nautobot-contract-models", "2026.5.17"),
                                 ("nautobot", nautobot[len("nautobot-"):-len(".dist-info")])):
            with open(os.path.join(state_dir, f"{package}.json"), "w") as f:
                json.dump({"format": 1, "package": package, "version": version, "verdict": "pass",
                           "verified_usec": 1}, f)
        r = self.run_if_changed(conf, expect=0)
        self.assertEqual(r.code, 0, r.dump())
        self.assertIn("nautobot-contract-models 2026.5.17: unchanged since its last verification (pass)", r.stdout)

    def test_corrupt_state_is_reported_and_rebuilt(self):
        conf = self.config(name="corrupt.conf", extra=WEB_ONLY)
        state_dir = os.path.join(nvdtest.state_dir_for(conf), "default")
        os.makedirs(state_dir, exist_ok=True)
        path = os.path.join(state_dir, "nautobot-contract-models.json")
        with open(path, "w") as f:
            f.write('{"format": 1, "package": "nautobot-contract-models", "version": ')  # cut short
        r = self.run_if_changed(conf)
        self.assertEqual(r.code, 0, r.dump())
        problems = [e for e in r.entries if e.get("MESSAGE_ID") == nvdtest.MSG["state-problem"]]
        self.assertTrue(problems, r.dump())
        self.assertIn("is not a JSON object", problems[0]["NVD_DETAIL"])
        self.assertIn("moved aside as .corrupt", problems[0]["NVD_DETAIL"])
        self.assertTrue(os.path.exists(path + ".corrupt"))
        with open(path) as f:
            self.assertEqual(json.load(f)["version"], "2026.5.17")  # rebuilt by the verification

    def test_unwritable_state_is_reported_not_fatal(self):
        blocker = os.path.join(self.tmp, "not-a-dir")
        with open(blocker, "w") as f:
            f.write("x")
        conf = self.config(name="ro.conf", extra={**WEB_ONLY, ("watch", "state-directory"): blocker + "/state"})
        r = self.run_if_changed(conf)
        self.assertEqual(r.code, 0, r.dump())
        self.assertIn("cannot write the state to", r.stderr)


    def test_waits_for_an_install_to_settle(self):
        # A site-packages of our own holding the two watched dist-infos, so the test
        # can play pip (rename the app's dist-info aside and back) without touching
        # the test bed's virtualenv. nautobot-server still comes from the test bed.
        site = os.path.join(self.tmp, "settle-site-packages")
        os.makedirs(site)
        for entry in os.listdir(self.tb["NVD_TB_SITE_PACKAGES"]):
            if entry.startswith(("nautobot-", "nautobot_contract_models-")) and entry.endswith(".dist-info"):
                shutil.copytree(os.path.join(self.tb["NVD_TB_SITE_PACKAGES"], entry), os.path.join(site, entry))
        dist = os.path.join(site, "nautobot_contract_models-2026.5.17.dist-info")
        stash = os.path.join(site, "~autobot_contract_models-2026.5.17.dist-info")
        conf = self.config(name="settle.conf", extra={**WEB_ONLY, ("nautobot", "site-packages"): site,
                                                      ("watch", "quiet-period"): "1s"})
        churn_seconds = 3.0

        def pip_churn():
            end = time.monotonic() + churn_seconds
            while time.monotonic() < end:
                os.rename(dist, stash)
                time.sleep(0.1)
                os.rename(stash, dist)
                time.sleep(0.2)

        churn = threading.Thread(target=pip_churn)
        t0 = time.monotonic()
        churn.start()
        r = self.run_if_changed(conf)
        elapsed = time.monotonic() - t0
        churn.join()
        self.assertEqual(r.code, 0, r.dump())
        self.assertIn("STATUS=Waiting for the install in " + site + " to settle", r.messages)
        self.assertGreaterEqual(elapsed, churn_seconds + 1.0, "verified before the install settled")
        s = r.check("summary")
        self.assertEqual((s["NVD_VERSION"], s["NVD_RESULT"]), ("2026.5.17", "pass"))
        self.assertEqual(len([e for e in r.entries if e.get("NVD_CHECK") == "summary"]), 1)


if __name__ == "__main__":
    nvdtest.main()
