# SPDX-License-Identifier: LGPL-2.1-or-later
"""Watch mode on a real upgrade.

A private copy of the test bed's virtualenv gets nautobot-contract-models
2026.5.12; the watcher runs against it; then the test runs pip itself:
upgrade to 2026.5.17 (and migrate), downgrade, uninstall. Each must be seen
exactly once, reported with old and new version, and recorded in the state.
Along the way: the sd_notify sequence (READY, STATUS, WATCHDOG, RELOADING
with MONOTONIC_USEC on SIGHUP, STOPPING on SIGTERM) on a real NOTIFY_SOCKET,
and no child left behind after SIGTERM in the middle of a check.
"""

import json
import os
import signal
import subprocess
import time
import unittest
import uuid
import nvdtest

OLD, NEW = "2026.5.12", "2026.5.17"
QUIET = 1.0  # the watcher's quiet period, seconds


def summaries(pid):
    return [e for e in nvdtest.journal_entries(pid, 0) if e.get("NVD_CHECK") == "summary"]


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Watch(nvdtest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.venv, cls.site = nvdtest.venv_with_app(os.path.join(cls.tmp, "venv"), OLD)
        cls.marker = f"NVD_TEST_MARKER={uuid.uuid4().hex}"
        env_file = os.path.join(cls.tmp, "watch.env")
        with open(cls.tb["NVD_TB_ENV_FILE"]) as src, open(env_file, "w") as dst:
            dst.write(src.read().rstrip("\n") + f"\n{cls.marker}\n")
        cls.conf = nvdtest.write_config(cls.tb, os.path.join(cls.tmp, "watch.conf"), {
            ("nautobot", "server"): os.path.join(cls.venv, "bin", "nautobot-server"),
            ("nautobot", "site-packages"): cls.site,
            ("nautobot", "environment-file"): env_file,
            ("watch", "quiet-period"): f"{int(QUIET * 1000)}ms",
            ("watch", "settle-timeout"): "60s",
            # This venv is not what the test bed's web server runs (it starts on the old
            # release): the upgrade's steps cannot all be done, so do not wait long for them.
            # tests/systemd follows a real upgrade to its end.
            ("watch", "upgrade-deadline"): "5s",
            ("watch", "step-interval"): "1s",
        })
        cls.notify = nvdtest.NotifySocket()
        cls.msgs = []
        cls.proc = nvdtest.start_daemon(["--watch", "-c", cls.conf], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True,
                                    env={"PATH": "/usr/bin:/bin", "NOTIFY_SOCKET": cls.notify.path,
                                         "WATCHDOG_USEC": "1000000"})

    @classmethod
    def tearDownClass(cls):
        if cls.proc.poll() is None:
            cls.proc.kill()
            cls.proc.wait(timeout=30)
        cls.notify.close()

    @classmethod
    def pip(cls, args):
        t0 = time.monotonic()
        subprocess.run([os.path.join(cls.venv, "bin", "pip"), "install", "-q", *args],
                       check=True, timeout=600, capture_output=True)
        return time.monotonic() - t0

    def messages(self):
        type(self).msgs += self.notify.messages()
        return self.msgs

    def state(self, want_version=None):
        """The state file once it records want_version (it is written right after the summary)."""
        path = os.path.join(nvdtest.state_dir_for(self.conf), "default", "nautobot-contract-models.json")

        def read():
            try:
                with open(path) as f:
                    s = json.load(f)
            except FileNotFoundError:
                return None
            return s if s["version"] == want_version else None
        return wait_for(read, 10, f"the state to record {want_version}")

    def change_entries(self):
        return [e for e in nvdtest.journal_entries(self.proc.pid, 0) if "NVD_CHANGE" in e and "NVD_CHECK" not in e]

    # The steps depend on each other; unittest runs them in name order.
    def test_1_ready_and_first_verification(self):
        wait_for(lambda: any(m.startswith("READY=1") for m in self.messages()), 30, "READY=1")
        self.assertTrue(any(m.startswith("STATUS=Watching " + self.site) for m in self.messages()), self.msgs)
        s = wait_for(lambda: summaries(self.proc.pid), 120, "the first verification")
        self.assertEqual(s[0]["NVD_VERSION"], OLD)
        self.assertEqual(self.state(OLD)["version"], OLD)
        wait_for(lambda: "WATCHDOG=1" in self.messages(), 10, "WATCHDOG=1")

    def test_2_upgrade_verified_exactly_once(self):
        before = len(summaries(self.proc.pid))
        self.pip(["--upgrade", f"nautobot-contract-models=={NEW}"])
        pip_exit = time.time()
        subprocess.run([os.path.join(self.venv, "bin", "nautobot-server"), "migrate"], check=True, timeout=600,
                       capture_output=True, env=self.server_env())
        s = wait_for(lambda: summaries(self.proc.pid)[before:], 180, "the upgrade's verification")
        time.sleep(3 * QUIET)  # a second verification would have started by now
        s = summaries(self.proc.pid)[before:]
        self.assertEqual(len(s), 1, "expected exactly one verification for one upgrade")
        self.assertEqual((s[0]["NVD_VERSION"], s[0]["NVD_CHANGE"], s[0]["NVD_OLD_VERSION"], s[0]["NVD_NEW_VERSION"]),
                         (NEW, "upgrade", OLD, NEW))
        change = [c for c in self.change_entries() if c.get("NVD_CHANGE") == "upgrade"]
        self.assertEqual(len(change), 1)
        self.assertEqual(change[0]["MESSAGE"], f"nautobot-contract-models: upgrade {OLD} \u2192 {NEW}")
        self.assertEqual(change[0]["MESSAGE_ID"], nvdtest.MSG["version-changed"])
        delay = int(change[0]["__REALTIME_TIMESTAMP"]) / 1e6 - pip_exit
        print(f"\nMEASURED: pip exit to start of verification: {delay:.2f} s (quiet period {QUIET} s; migrate ran in between)")
        self.assertEqual(self.state(NEW)["verdict"], "pass")
        self.assertTrue(any(f"(upgrade {OLD} \u2192 {NEW})" in m for m in self.messages()), self.msgs)

    def test_2b_change_during_a_run_is_verified_after_it(self):
        before = len(summaries(self.proc.pid))
        reinstall = ["--force-reinstall", "--no-deps", f"nautobot-contract-models=={NEW}"]
        self.pip(reinstall)
        wait_for(lambda: nvdtest.processes_with(self.marker), 60, "the reinstall's checks to start")
        self.pip(reinstall)  # lands while the first run's checks are running
        s = wait_for(lambda: summaries(self.proc.pid)[before + 1:], 180, "the queued verification")
        time.sleep(3 * QUIET)
        s = summaries(self.proc.pid)[before:]
        self.assertEqual([e["NVD_CHANGE"] for e in s], ["reinstall", "reinstall"], "one run per settled change")
        self.assertIsNone(self.proc.poll(), "the watcher died")

    def test_3_downgrade_is_a_rollback(self):
        before = len(summaries(self.proc.pid))
        self.pip([f"nautobot-contract-models=={OLD}"])
        s = wait_for(lambda: summaries(self.proc.pid)[before:], 180, "the downgrade's verification")
        self.assertEqual(s[0]["NVD_CHANGE"], "downgrade")
        rollback = [c for c in self.change_entries() if c.get("NVD_CHANGE") == "downgrade"]
        self.assertEqual(len(rollback), 1)
        self.assertEqual(rollback[0]["MESSAGE_ID"], nvdtest.MSG["rollback"])
        self.assertEqual(rollback[0]["PRIORITY"], "4")
        self.assertIn("a rollback", rollback[0]["MESSAGE"])
        # What the rollback drops comes from the app's profile ([rollback] in lib/checks/profiles/).
        self.assertIn("(for nautobot-contract-models, going below 0008_costsnapshot drops the captured cost history)",
                      rollback[0]["MESSAGE"])
        self.assertEqual(self.state(OLD)["version"], OLD)

    def test_4_reload(self):
        n = len(self.messages())
        self.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: any(m.startswith("READY=1") for m in self.messages()[n:]), 10, "READY=1 after SIGHUP")
        reloading = [m for m in self.msgs[n:] if m.startswith("RELOADING=1")]
        self.assertEqual(len(reloading), 1, self.msgs[n:])
        self.assertRegex(reloading[0], r"^RELOADING=1\nMONOTONIC_USEC=\d+$")
        # A broken configuration is refused and the old one kept.
        with open(self.conf) as f:
            good = f.read()
        try:
            with open(self.conf, "w") as f:
                f.write(good + "[watch]\nquiet-period = soon\n")
            n = len(self.messages())
            self.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: any(m.startswith("READY=1") for m in self.messages()[n:]), 10, "READY=1 after a bad reload")
            self.assertTrue(any("Reload refused" in m for m in self.msgs[n:]), self.msgs[n:])
            failed = wait_for(lambda: [e for e in nvdtest.journal_entries(self.proc.pid, 0)
                                       if e.get("MESSAGE_ID") == nvdtest.MSG["reload-failed"]], 10, "the reload failure entry")
            self.assertIn("'soon' is not a duration", failed[0]["MESSAGE"])
        finally:
            with open(self.conf, "w") as f:
                f.write(good)
        self.assertIsNone(self.proc.poll())

    def test_5_uninstall_is_reported(self):
        before = len(summaries(self.proc.pid))
        subprocess.run([os.path.join(self.venv, "bin", "pip"), "uninstall", "-y", "-q", "nautobot-contract-models"],
                       check=True, timeout=300, capture_output=True)
        removed = wait_for(lambda: [c for c in self.change_entries() if c.get("NVD_CHANGE") == "removed"], 60, "the removal")
        self.assertEqual(removed[0]["MESSAGE_ID"], nvdtest.MSG["removed"])
        self.assertEqual(removed[0]["NVD_OLD_VERSION"], OLD)
        time.sleep(3 * QUIET)
        self.assertEqual(len(summaries(self.proc.pid)), before, "nothing to verify after an uninstall")
        self.assertIsNone(self.proc.poll(), "the watcher died on an uninstall")
        self.assertEqual(self.state(None)["verdict"], "removed")

    def test_6_sigterm_mid_check_leaves_no_child(self):
        self.pip([f"nautobot-contract-models=={NEW}"])
        wait_for(lambda: nvdtest.processes_with(self.marker), 120, "the checks to start")
        self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=60)
        self.assertEqual(self.proc.returncode, 0, err)
        self.assertEqual(nvdtest.processes_with(self.marker), [], "a check's process outlived SIGTERM")
        self.assertEqual(self.messages()[-1], "STOPPING=1")
        last = summaries(self.proc.pid)[-1]
        self.assertEqual(last["NVD_RESULT"], "incomplete")

    def server_env(self):
        env = {"PATH": "/usr/bin:/bin"}
        with open(self.tb["NVD_TB_ENV_FILE"]) as f:
            for line in f:
                key, _, value = line.strip().partition("=")
                if key:
                    env[key] = value
        return env


if __name__ == "__main__":
    unittest.main(verbosity=2, failfast=True)
