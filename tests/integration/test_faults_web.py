# SPDX-License-Identifier: LGPL-2.1-or-later
"""Faults the web checks must tell apart, each produced on the real server."""

import os
import subprocess
import nvdtest

WEB_ONLY = {("checks", "enable"): "jobs, panels"}


def psql(tb, sql):
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", tb["NVD_TB_DB"], "-v",
                    "ON_ERROR_STOP=1", "-qAtc", sql], check=True, timeout=60, capture_output=True)


class WebFaults(nvdtest.TestCase):
    def write_secret(self, name, value):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(value + "\n")
        os.chmod(path, 0o600)
        return path

    def test_expected_job_missing(self):
        # The configuration expects a Job this release does not ship, on top of the 7 its code declares.
        conf = self.config(extra={**WEB_ONLY, ("package", "jobs"):
                                  "RenewalCheckJob, CoverageGapJob, RenewalCalendarJob"})
        r = nvdtest.Run(conf)
        self.assertEqual(r.code, 1, r.dump())
        e = self.assertResult(r, "jobs", "fail", "1 of 8 expected Jobs are not usable: missing: RenewalCalendarJob")
        self.assertEqual(e["MESSAGE_ID"], nvdtest.MSG["check-fail"])
        self.assertEqual(e["PRIORITY"], "3")
        self.assertEqual(r.check("summary")["MESSAGE_ID"], nvdtest.MSG["summary-fail"])
        # The code's own Jobs are expected without being listed: no "unexpected" noise about them.
        self.assertFalse([f for f in r.findings("jobs") if "not in the expected list" in f], r.dump())

    def test_job_not_installed(self):
        # What Nautobot records when a Job's class no longer loads: installed = false.
        psql(self.tb, "UPDATE extras_job SET installed = false WHERE job_class_name = 'CostAnomalyJob'")
        try:
            r = nvdtest.Run(self.config(extra=WEB_ONLY))
            blind = nvdtest.Run(self.config(name="blind.conf", extra={**WEB_ONLY, ("checks", "django"): "command"}))
        finally:
            psql(self.tb, "UPDATE extras_job SET installed = true WHERE job_class_name = 'CostAnomalyJob'")
        self.assertEqual(blind.code, 1, blind.dump())
        self.assertResult(blind, "jobs", "fail", "registered but not installed (their class no longer loads")
        self.assertIn("CostAnomalyJob", blind.check("jobs")["NVD_REASON"])
        self.assertEqual(r.code, 1, r.dump())
        # The installed code defines the class (the probe loaded it): the registry is stale, and
        # "nautobot-server migrate" refreshes it. Without the probe's word: its class no longer loads.
        self.assertResult(r, "jobs", "fail", "the installed code defines 1 Job(s) of nautobot_contract_models.jobs "
                                             "that the database does not list as installed (CostAnomalyJob)")
        self.assertIn('CostAnomalyJob "Detect cost anomalies": NOT installed', r.check("jobs")["NVD_EVIDENCE"])

    def test_expected_panel_missing(self):
        conf = self.config(extra={**WEB_ONLY, ("package", "panels"): "Contracts, Renewal Calendar"})
        r = nvdtest.Run(conf)
        self.assertEqual(r.code, 1, r.dump())
        self.assertResult(r, "panels", "fail", "1 of 2 expected panels are not on the home page: Renewal Calendar")

    def test_account_without_permissions_misses_panels(self):
        # A real account that may log in but has no permissions sees none of the app's panels.
        subprocess.run([nvdtest.TESTBED, "manage", "--name", self.tb["NVD_TB_NAME"], "--", "shell",
                        "--command",
                        "from nautobot.users.models import User\n"
                        "u, _ = User.objects.get_or_create(username='nvd-viewer')\n"
                        "u.set_password('viewer-pass-123'); u.save()"],
                       check=True, timeout=120, capture_output=True)
        conf = self.config(name="viewer.conf", extra={**WEB_ONLY,
                                                      ("credentials", "username"): "nvd-viewer",
                                                      ("credentials", "password-file"): self.write_secret("viewer-pw", "viewer-pass-123")})
        r = nvdtest.Run(conf)
        # The probe asks Django what the account may see: nothing, so nothing was judged, and
        # no panel is called missing (issue 17).
        self.assertEqual(r.code, 2, r.dump())
        self.assertResult(r, "panels", "error", "'nvd-viewer' may see none of the 6 panels the installed "
                                                "nautobot-contract-models declares, so none was judged")
        self.assertIn("nautobot-verifyctl setup", r.check("panels")["NVD_REASON"])
        self.assertIn('panel "Coverage Gaps" is not shown to \'nvd-viewer\', which has none of its permissions '
                      '(dcim.view_device)', " ".join(r.findings("panels")))

    def test_account_missing_one_permission_is_a_finding(self):
        # The view permission on contracts, not on devices: five panels shown, Coverage Gaps not,
        # and that is what an upgrade that adds a model does to a setup account.
        subprocess.run([nvdtest.TESTBED, "manage", "--name", self.tb["NVD_TB_NAME"], "--", "shell",
                        "--command",
                        "from django.contrib.contenttypes.models import ContentType\n"
                        "from nautobot.users.models import ObjectPermission, User\n"
                        "u, _ = User.objects.get_or_create(username='nvd-partial')\n"
                        "u.set_password('partial-pass-123'); u.save()\n"
                        "p, _ = ObjectPermission.objects.get_or_create(name='nvd-partial-contracts', "
                        "defaults={'actions': ['view']})\n"
                        "p.object_types.set([ContentType.objects.get_by_natural_key('nautobot_contract_models', "
                        "'contract')])\n"
                        "p.users.add(u)"],
                       check=True, timeout=120, capture_output=True)
        conf = self.config(name="partial.conf", extra={**WEB_ONLY,
                                                       ("credentials", "username"): "nvd-partial",
                                                       ("credentials", "password-file"): self.write_secret("partial-pw", "partial-pass-123")})
        r = nvdtest.Run(conf)
        self.assertResult(r, "panels", "pass", "all 5 expected panels are on the home page")
        self.assertIn('panel "Coverage Gaps" is not shown to \'nvd-partial\', which has none of its permissions '
                      '(dcim.view_device): nautobot-verifyctl setup refreshes the account\'s permission',
                      " ".join(r.findings("panels")))

    def test_home_page_500_from_a_raising_panel(self):
        # The app's Contracts panel queries its table; without it the panel raises,
        # and one raising panel makes Nautobot's whole home page a 500.
        psql(self.tb, "ALTER TABLE nautobot_contract_models_contract RENAME TO nautobot_contract_models_contract_nvd")
        try:
            r = nvdtest.Run(self.config(extra={("checks", "enable"): "panels"}))
        finally:
            psql(self.tb, "ALTER TABLE nautobot_contract_models_contract_nvd RENAME TO nautobot_contract_models_contract")
        self.assertEqual(r.code, 1, r.dump())
        self.assertResult(r, "panels", "fail", "failed with HTTP 500: one app panel that raises breaks the whole page")

    def test_session_cookie_not_sent_back(self):
        # A second real server whose session cookie names another domain (as after
        # a host rename): the login succeeds, the home page sends us back to /login/.
        with nvdtest.extra_instance("nvdcookie", "--no-worker", "--env",
                                    "NVD_SESSION_COOKIE_DOMAIN=nautobot.example.invalid") as url:
            r = nvdtest.Run(self.config(extra={("checks", "enable"): "panels", ("nautobot", "url"): url}))
        self.assertEqual(r.code, 2, r.dump())
        self.assertResult(r, "panels", "error", f"the home page redirected back to the login page ({url}/login/?next=/)")

    def test_web_server_not_restarted_after_upgrade(self):
        # The installed code is older than what the running web server loaded (or,
        # after an upgrade without a restart, newer): the running check says so.
        _, site = nvdtest.venv_with_app(os.path.join(self.tmp, "skew-venv"), "2026.5.12")
        r = nvdtest.Run(self.config(extra={("checks", "enable"): "running", ("nautobot", "site-packages"): site}))
        self.assertEqual(r.code, 1, r.dump())
        self.assertResult(r, "running", "fail", "the web server runs nautobot-contract-models 2026.5.17 but 2026.5.12 is installed: restart nautobot.service")

    def test_no_worker_running(self):
        with nvdtest.extra_instance("nvdnoworker", "--no-worker") as url:
            r = nvdtest.Run(self.config(extra={("checks", "enable"): "running", ("nautobot", "url"): url}))
        self.assertEqual(r.code, 1, r.dump())
        self.assertResult(r, "running", "fail", "no Celery worker answers: start nautobot-worker.service")

    def test_wrong_password(self):
        conf = self.config(extra={**WEB_ONLY, ("credentials", "password-file"): self.write_secret("bad-pw", "not-the-password")})
        r = nvdtest.Run(conf)
        self.assertEqual(r.code, 2, r.dump())
        e = self.assertResult(r, "panels", "error", "login as 'verifyd' failed: Please enter a correct username and password")
        self.assertEqual(e["MESSAGE_ID"], nvdtest.MSG["check-error"])
        self.assertEqual(e["PRIORITY"], "4")
        self.assertResult(r, "jobs", "pass")
        self.assertEqual(r.check("summary")["NVD_RESULT"], "incomplete")
        self.assertNotIn("not-the-password", r.stdout + repr(r.entries))

    def test_wrong_token(self):
        conf = self.config(extra={**WEB_ONLY, ("credentials", "token-file"): self.write_secret("bad-token", "0" * 40)})
        r = nvdtest.Run(conf)
        self.assertEqual(r.code, 2, r.dump())
        self.assertResult(r, "jobs", "error", "the API token was refused (HTTP 403: Invalid token)")
        self.assertResult(r, "panels", "pass")

    def test_unreadable_and_absent_secrets(self):
        conf = self.config(extra={**WEB_ONLY, ("credentials", "token-file"): "/nonexistent/api-token",
                                  ("credentials", "password-file"): "",
                                  ("credentials", "password-credential"): "nautobot-web-pw"})
        r = nvdtest.Run(conf)
        self.assertEqual(r.code, 2, r.dump())
        self.assertResult(r, "jobs", "error", "cannot read the API token from '/nonexistent/api-token': No such file or directory")
        # The reason names the credential the configuration names, not the default.
        e = self.assertResult(r, "panels", "skipped", "no web password configured ([credentials] password-file=, "
                              "or credential 'nautobot-web-pw' as password-credential= names it)")
        self.assertEqual(e["MESSAGE_ID"], nvdtest.MSG["check-skipped"])
        self.assertEqual(e["PRIORITY"], "5")  # a skipped check that was wanted: a notice
        # Checks the configuration turned off are no news every run: debug, same MESSAGE_ID.
        for check in ("versions", "system", "database"):
            off = self.assertResult(r, check, "skipped", "disabled by [checks] enable=")
            self.assertEqual((off["PRIORITY"], off["MESSAGE_ID"]), ("7", nvdtest.MSG["check-skipped"]))

    def test_web_server_down(self):
        port = nvdtest.free_port()
        conf = self.config(extra={**WEB_ONLY, ("nautobot", "url"): f"http://127.0.0.1:{port}"})
        r = nvdtest.Run(conf)
        self.assertEqual(r.code, 2, r.dump())
        for check in ("jobs", "panels"):
            self.assertResult(r, check, "error", f"cannot fetch http://127.0.0.1:{port}/")
            self.assertIn("Failed to connect", r.check(check)["NVD_REASON"])

    def test_web_server_not_answering(self):
        # Accepts connections, never answers: the HTTP timeout must end the check.
        s = nvdtest.silent_listener()
        port = s.getsockname()[1]
        try:
            conf = self.config(extra={**WEB_ONLY, ("nautobot", "url"): f"http://127.0.0.1:{port}",
                                      ("nautobot", "http-timeout"): "2s"})
            r = nvdtest.Run(conf)
        finally:
            s.close()
        self.assertEqual(r.code, 2, r.dump())
        self.assertResult(r, "jobs", "error", "Operation timed out")
        self.assertLess(int(r.check("summary")["NVD_DURATION_USEC"]), 10_000_000)


if __name__ == "__main__":
    nvdtest.main()
