# SPDX-License-Identifier: LGPL-2.1-or-later
"""Faults of the command-line checks, produced with the real nautobot-server."""

import os
import re
import shutil
import subprocess
import time
import uuid
import nvdtest

COMMANDS_ONLY = {("checks", "enable"): "system, migrations"}


def read(path):
    with open(path) as f:
        return f.read()


def python_files(top):
    return (os.path.join(d, f) for d, _, files in os.walk(top) for f in sorted(files) if f.endswith(".py"))


class CommandFaults(nvdtest.TestCase):
    def env_file(self, name, extra_lines):
        """The test bed's environment file plus extra KEY=VALUE lines."""
        path = os.path.join(self.tmp, name)
        with open(self.tb["NVD_TB_ENV_FILE"]) as src, open(path, "w") as dst:
            dst.write(src.read().rstrip("\n") + "\n" + "\n".join(extra_lines) + "\n")
        return path

    def test_model_changed_without_migration(self):
        # A scratch copy of the real app whose Contract model gained a field, first on PYTHONPATH.
        scratch = os.path.join(self.tmp, "scratch")
        app = os.path.join(scratch, "nautobot_contract_models")
        shutil.copytree(os.path.join(self.tb["NVD_TB_SITE_PACKAGES"], "nautobot_contract_models"), app,
                        ignore=shutil.ignore_patterns("__pycache__"))
        models = next(path for path in python_files(app) if re.search(r"^class Contract\(", read(path), re.M))
        with open(models) as f:
            text = f.read()
        # Insert the field after the class's docstring.
        text, n = re.subn(r'^(class Contract\([^)]*\):\n    """(?:.|\n)*?"""\n)',
                          r"\1    verifyd_probe = models.IntegerField(default=0)\n", text, count=1, flags=re.M)
        self.assertEqual(n, 1, "could not find class Contract in the app's models")
        with open(models, "w") as f:
            f.write(text)
        conf = self.config(extra={**COMMANDS_ONLY, ("nautobot", "environment-file"):
                                  self.env_file("scratch.env", [f"PYTHONPATH={scratch}"])})
        r = nvdtest.Run(conf)
        self.assertEqual(r.code, 1, r.dump())
        self.assertResult(r, "migrations", "fail", "models of app 'nautobot_contract_models' have 1 change(s) without a migration")
        self.assertTrue(any("Add field verifyd_probe to contract" in f for f in r.findings("migrations")), r.dump())

    def test_app_removed_from_plugins(self):
        conf = self.config(extra={**COMMANDS_ONLY, ("nautobot", "environment-file"):
                                  self.env_file("noplugin.env", ["NVD_PLUGINS="])})
        r = nvdtest.Run(conf)
        self.assertEqual(r.code, 1, r.dump())
        self.assertResult(r, "migrations", "fail", "app 'nautobot_contract_models' is not loaded by Nautobot")
        self.assertIn("No installed app with label 'nautobot_contract_models'", r.check("migrations")["NVD_EVIDENCE"])

    def test_hang_past_timeout_kills_the_group(self):
        # Redis that accepts and never answers: nautobot-server check waits on it.
        redis = nvdtest.silent_listener()
        marker = f"NVD_TEST_MARKER={uuid.uuid4().hex}"
        try:
            env = self.env_file("hang.env", [f"NAUTOBOT_REDIS_PORT={redis.getsockname()[1]}", marker])
            conf = self.config(extra={("checks", "enable"): "system", ("nautobot", "environment-file"): env,
                                      ("nautobot", "command-timeout"): "2s"})
            r = nvdtest.Run(conf)
        finally:
            redis.close()
        self.assertEqual(r.code, 2, r.dump())
        self.assertResult(r, "system", "error", "'nautobot-server check' did not finish within 2 s; its process group was killed")
        self.assertEqual(nvdtest.processes_with(marker), [], "children of the check outlived it")

    def test_redis_not_answering_is_a_failure_when_time_allows(self):
        # Given time, the same wedged Redis makes nautobot-server crash: a failed check, with the cause.
        redis = nvdtest.silent_listener()
        try:
            env = self.env_file("redis.env", [f"NAUTOBOT_REDIS_PORT={redis.getsockname()[1]}"])
            r = nvdtest.Run(self.config(extra={("checks", "enable"): "system", ("nautobot", "environment-file"): env}))
        finally:
            redis.close()
        self.assertEqual(r.code, 1, r.dump())
        self.assertResult(r, "system", "fail", "nautobot-server failed before checking: redis.exceptions")

    def test_version_requirement_not_met(self):
        # Per-package expectations: Nautobot itself must be in the range the app supports.
        conf = self.config(extra={("checks", "enable"): "versions",
                                  ("watch", "expect"): "nautobot >= 3.2, nautobot-contract-models >= 2026.5.12, absent-package >= 1"})
        r = nvdtest.Run(conf)
        self.assertEqual(r.code, 1, r.dump())
        e = self.assertResult(r, "versions", "fail", "2 of 3 version requirements are not met: nautobot >= 3.2: nautobot 3.1.6 does not meet it; absent-package >= 1: not installed")
        self.assertIn("nautobot-contract-models >= 2026.5.12: nautobot-contract-models 2026.5.17", e["NVD_EVIDENCE"])

    def test_server_missing(self):
        conf = self.config(extra={**COMMANDS_ONLY, ("nautobot", "server"): "/nonexistent/bin/nautobot-server"})
        r = nvdtest.Run(conf)
        self.assertEqual(r.code, 2, r.dump())
        for check in ("system", "migrations"):
            self.assertResult(r, check, "error", "nautobot-server not found at '/nonexistent/bin/nautobot-server'")
        # The version still comes from the configured site-packages.
        self.assertEqual(r.check("summary")["NVD_VERSION"], "2026.5.17")

    def test_bad_environment_file(self):
        bad = os.path.join(self.tmp, "bad.env")
        with open(bad, "w") as f:
            f.write("NAUTOBOT_ROOT=/x\nthis is not an assignment\n")
        r = nvdtest.Run(self.config(extra={**COMMANDS_ONLY, ("nautobot", "environment-file"): bad}))
        self.assertEqual(r.code, 2, r.dump())
        self.assertResult(r, "system", "error", f"environment file {bad}:2: not a KEY=VALUE line")

    def test_version_unknown_is_reported(self):
        empty = os.path.join(self.tmp, "empty-site-packages")
        os.makedirs(empty, exist_ok=True)
        r = nvdtest.Run(self.config(extra={("checks", "enable"): "jobs", ("nautobot", "site-packages"): empty}))
        s = r.check("summary")
        self.assertEqual(s["NVD_VERSION"], "unknown")
        self.assertIn(f"nautobot-contract-models is not installed in {empty}", s["NVD_VERSION_ERROR"])
        self.assertIn("(version unknown)", r.stdout)

    def test_sigterm_mid_check(self):
        marker = f"NVD_TEST_MARKER={uuid.uuid4().hex}"
        conf = self.config(extra={**COMMANDS_ONLY, ("nautobot", "environment-file"): self.env_file("term.env", [marker])})
        notify = nvdtest.NotifySocket()
        proc = nvdtest.start_daemon(["--once", "-c", conf], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env={"NOTIFY_SOCKET": notify.path, "PATH": "/usr/bin:/bin"}, text=True)
        deadline = time.monotonic() + 30
        while not nvdtest.processes_with(marker) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertTrue(nvdtest.processes_with(marker), "the checks never started")
        proc.terminate()
        out, err = proc.communicate(timeout=30)
        msgs = notify.messages()
        notify.close()
        self.assertEqual(proc.returncode, 2, out + err)
        self.assertIn("Received SIGTERM, stopping the running checks.", err)
        self.assertIn("interrupted by SIGTERM", out)
        self.assertEqual(msgs[-1], "STOPPING=1")
        self.assertEqual(nvdtest.processes_with(marker), [], "a check's process outlived SIGTERM")
        entries = nvdtest.journal_entries(proc.pid, nvdtest.RUN_ENTRIES)
        self.assertEqual({e["NVD_CHECK"]: e["NVD_RESULT"] for e in entries if e["NVD_CHECK"] in ("system", "migrations")},
                         {"system": "error", "migrations": "error"})
        self.assertIn("interrupted by SIGTERM", [e for e in entries if e["NVD_CHECK"] == "system"][0]["NVD_REASON"])


if __name__ == "__main__":
    nvdtest.main()
