# SPDX-License-Identifier: LGPL-2.1-or-later
"""Activated mode (--if-changed): verify once per change, survive a corrupt state file."""

import json
import os
import nvdtest

WEB_ONLY = {("checks", "enable"): "jobs, panels"}


class Activated(nvdtest.TestCase):
    def run_if_changed(self, conf, *extra, expect=5):
        return nvdtest.Run(conf, expect_entries=expect, args=["--if-changed", *extra])

    def test_two_runs_verify_once(self):
        conf = self.config(name="act.conf", extra=WEB_ONLY)
        first = self.run_if_changed(conf)
        self.assertEqual(first.code, 0, first.dump())
        self.assertEqual(len([e for e in first.entries if e.get("NVD_CHECK") == "summary"]), 1, first.dump())
        state = os.path.join(nvdtest.state_dir_for(conf), "nautobot-contract-models.json")
        with open(state) as f:
            saved = json.load(f)
        self.assertEqual((saved["version"], saved["verdict"]), ("2026.5.17", "pass"))
        self.assertEqual([c["check"] for c in saved["report"]["checks"]], ["system", "migrations", "jobs", "panels"])

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

    def test_corrupt_state_is_reported_and_rebuilt(self):
        conf = self.config(name="corrupt.conf", extra=WEB_ONLY)
        state_dir = nvdtest.state_dir_for(conf)
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


if __name__ == "__main__":
    nvdtest.main()
