# SPDX-License-Identifier: LGPL-2.1-or-later
"""A healthy install passes all four checks, and every report says so.

Real Nautobot, real journald, real NOTIFY_SOCKET.
"""

import os
import nvdtest
from nvdtest import MSG


class Healthy(nvdtest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.run_ = nvdtest.Run(nvdtest.write_config(cls.tb, os.path.join(cls.tmp, "ok.conf")))
        with open(cls.tb["NVD_TB_PASSWORD_FILE"]) as f:
            cls.password = f.read().strip()
        with open(cls.tb["NVD_TB_TOKEN_FILE"]) as f:
            cls.token = f.read().strip()

    def test_exit_code_and_table(self):
        r = self.run_
        self.assertEqual(r.code, 0, r.dump())
        self.assertIn("nautobot-contract-models 2026.5.17", r.stdout)
        self.assertIn("verification passed", r.stdout)
        for check in nvdtest.HOST_CHECKS:
            self.assertRegex(r.stdout, rf"\n  {check} +pass ", r.dump())
        self.assertRegex(r.stdout, r"\n  restarts +skipped .*not applicable here: no systemd", r.dump())

    def test_journal_entries(self):
        r = self.run_
        self.assertEqual(len([e for e in r.entries if "NVD_CHECK" in e]), nvdtest.RUN_ENTRIES, r.dump())
        # A fresh state directory: both watched packages are reported as newly installed.
        self.assertEqual(sorted((c["NVD_PACKAGE"], c["NVD_CHANGE"]) for c in r.changes()),
                         [("nautobot", "installed"), ("nautobot-contract-models", "installed")], r.dump())
        run_ids = {e["NVD_RUN_ID"] for e in r.entries if "NVD_CHECK" in e}
        self.assertEqual(len(run_ids), 1)
        for check in nvdtest.HOST_CHECKS:
            e = r.check(check)
            self.assertEqual(e["NVD_RESULT"], "pass")
            self.assertEqual(e["MESSAGE_ID"], MSG["check-pass"])
            self.assertIn(e["PRIORITY"], ("5", "6"))  # notice when it carries findings
            self.assertEqual(e["NVD_PACKAGE"], "nautobot-contract-models")
            self.assertEqual((e["NVD_APP"], e["NVD_INSTANCE"]), ("nautobot_contract_models", "default"))
            self.assertEqual(e["NVD_VERSION"], "2026.5.17")
            self.assertGreater(int(e["NVD_DURATION_USEC"]), 0)
            self.assertTrue(e["NVD_EVIDENCE"])
            self.assertTrue(e["MESSAGE"].startswith(f"nautobot-contract-models 2026.5.17: check {check} passed"))
        s = r.check("summary")
        self.assertEqual(s["MESSAGE_ID"], MSG["summary-pass"])
        self.assertEqual(s["NVD_RESULT"], "pass")
        self.assertEqual((s["NVD_PASSED"], s["NVD_FAILED"], s["NVD_ERRORS"], s["NVD_SKIPPED"]), ("8", "0", "0", "1"))
        # No systemd PID 1 on the host: the unit restarts are not asked, and say so.
        self.assertEqual(r.check("restarts")["NVD_RESULT"], "skipped")
        self.assertIn("not applicable here: no systemd", r.check("restarts")["NVD_REASON"])
        self.assertEqual(r.check("restarts")["PRIORITY"], "5")  # about the host: stays a notice
        self.assertEqual(s["PRIORITY"], "5")

    def test_evidence_is_specific(self):
        r = self.run_
        self.assertIn("System check identified no issues", r.check("system")["NVD_EVIDENCE"])
        self.assertIn("nautobot >= 3.1.0: nautobot 3.1.6", r.check("versions")["NVD_EVIDENCE"])
        self.assertIn("No changes detected in app 'nautobot_contract_models'", r.check("migrations")["NVD_EVIDENCE"])
        self.assertRegex(r.check("static")["NVD_EVIDENCE"], r"files shipped: \d{3,}; missing or of another size: 0")
        jobs = r.check("jobs")["NVD_EVIDENCE"]
        for cls in ("RenewalCheckJob", "CoverageGapJob", "CostReportJob", "CostHistoryJob",
                    "CostAnomalyJob", "MigrateContractLCMToContract", "CoverageSnapshotJob"):
            self.assertRegex(jobs, rf"{cls} \"[^\"]+\": installed, (enabled|disabled)")
        self.assertIn("Migrate ContractLCM \u2192 Contract", jobs)
        panels = r.check("panels")["NVD_EVIDENCE"]
        for title in ("Contracts", "Action Required", "Coverage Gaps", "Cost Summary", "Renewal Forecast"):
            self.assertIn(f"  {title} (id ", panels)

    def test_grouping_and_disabled_are_findings(self):
        findings = self.run_.findings("jobs")
        # RenewalCheckJob's variables endpoint answers 500 on Nautobot 3.1.6 (a callable default
        # that is not JSON): the class loads, and the finding says what failed (issue 16, item 11).
        self.assertIn("the web server loads Job RenewalCheckJob, but describing its variables fails: "
                      "/api/extras/jobs/<id>/variables/ answers 500 (TypeError: Object of type function is not "
                      "JSON serializable)", " ".join(findings))
        self.assertFalse(any("is unknown" in f for f in findings), findings)
        self.assertTrue(any('grouped as "nautobot_contract_models.jobs", not "Contracts"' in f for f in findings), findings)
        self.assertTrue(any("7 of 7 expected Jobs are disabled" in f for f in findings), findings)
        # The advice comes from the app's profile (lib/checks/profiles/), word for word as before.
        self.assertTrue(any(f.endswith('enable the ones you run, e.g. schedule "Capture cost history snapshot" '
                                       'after an upgrade to 0008') for f in findings), findings)

    def test_notify_sequence(self):
        msgs = self.run_.messages
        ready = [i for i, m in enumerate(msgs) if m.startswith("READY=1")]
        self.assertEqual(len(ready), 1, msgs)
        self.assertEqual(msgs[ready[0]], "READY=1\nSTATUS=Verifying nautobot-contract-models 2026.5.17 (first verification of 2026.5.17): running system, migrations, database, running, jobs, panels")
        self.assertTrue(all(not m.startswith("STATUS=") for m in msgs[:ready[0]]), msgs)
        self.assertTrue(msgs[0].startswith("EXTEND_TIMEOUT_USEC="), msgs)
        self.assertTrue(any(m.startswith("STATUS=Verifying") and "checks done" in m for m in msgs), msgs)
        verdict = [m for m in msgs if "verified, all checks passed" in m]
        self.assertEqual(len(verdict), 1, msgs)
        self.assertIn("versions pass, system pass, migrations pass, database pass, static pass, restarts skipped, running pass, jobs pass, panels pass", verdict[0])
        self.assertEqual(msgs[-1], "STOPPING=1")

    def test_no_secret_anywhere(self):
        r = self.run_
        everything = r.stdout + r.stderr + "".join(r.messages) + repr(r.entries)
        self.assertNotIn(self.password, everything)
        self.assertNotIn(self.token, everything)


if __name__ == "__main__":
    nvdtest.main()
