# SPDX-License-Identifier: LGPL-2.1-or-later
"""Verdicts that are final only when right, on the real test bed (no systemd here;
tests/systemd walks the whole upgrade under a real PID 1).

- An upgrade in progress is followed: while a step is pending (here: collectstatic,
  a static file of the installed release missing from STATIC_ROOT) STATUS= says what
  is awaited and nothing FAILED is journaled; when the admin does the step, the
  verification runs once and passes. When the deadline passes first, the verdict is
  FAIL naming the unfinished step.
- A stale failure is corrected: a non-pass verdict is verified again by the next
  activation, which passes once the fault is mended.
- An aborted run (SIGTERM) is not recorded as verified.
- An install that never settles is not "nothing changed".
"""

import json
import os
import shutil
import signal
import subprocess
import time
import uuid
import nvdtest
from nvdtest import MSG

# The checks that confirm the guide's steps and need no Django boot, plus the cheap ones.
FAST = {("checks", "enable"): "versions, database, static, running, jobs, panels"}
DOC = "nautobot_contract_models/docs/admin/release_notes/version_2026.5.17/index.html"


class Follow(nvdtest.TestCase):
    def static_copy(self, name):
        """A STATIC_ROOT of our own: hard links to the test bed's collected files."""
        dst = os.path.join(self.tmp, name)
        subprocess.run(["cp", "-al", os.path.join(self.tb["NVD_TB_ROOT"], "static"), dst], check=True, timeout=120)
        self.assertTrue(os.path.exists(os.path.join(dst, DOC)), f"the test bed's STATIC_ROOT lacks {DOC}")
        return dst

    def state(self, conf):
        path = os.path.join(nvdtest.state_dir_for(conf), "default", "nautobot-contract-models.json")
        try:
            with open(path) as f:
                return json.load(f)
        except FileNotFoundError:
            return None

    def test_pending_step_then_done_gives_one_verdict(self):
        static = self.static_copy("static-follow")
        moved = os.path.join(self.tmp, "held-back.html")
        os.rename(os.path.join(static, DOC), moved)
        conf = self.config("follow.conf", {**FAST, ("nautobot", "static-root"): static,
                                           ("watch", "step-interval"): "500ms",
                                           ("watch", "upgrade-deadline"): "120s"})
        notify = nvdtest.NotifySocket()
        proc = nvdtest.start_daemon(["--if-changed", "-c", conf], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True, env={"PATH": "/usr/bin:/bin", "NOTIFY_SOCKET": notify.path})
        msgs = []
        deadline = time.monotonic() + 60
        while not any("waiting for: collectstatic (1 file)" in m for m in msgs):
            self.assertLess(time.monotonic(), deadline, f"no STATUS naming the pending step: {msgs}")
            if proc.poll() is not None:
                self.fail(f"exited while a step was pending: {proc.communicate()}")
            msgs += notify.messages()
        time.sleep(1.5)  # three more rounds: still waiting, still no verdict
        self.assertIsNone(proc.poll())
        os.rename(moved, os.path.join(static, DOC))  # the admin runs collectstatic
        out, err = proc.communicate(timeout=120)
        msgs += notify.messages()
        notify.close()
        self.assertEqual(proc.returncode, 0, out + err)
        entries = nvdtest.journal_entries(proc.pid, nvdtest.RUN_ENTRIES)
        self.assertEqual([e["NVD_RESULT"] for e in entries if e.get("NVD_CHECK") == "summary"], ["pass"])
        self.assertFalse([e for e in entries if e.get("NVD_RESULT") in ("fail", "error")], "a FAILED entry while waiting")
        pending = [e for e in entries if e.get("MESSAGE_ID") == MSG["upgrade-pending"]]
        self.assertEqual(len(pending), 1, entries)
        self.assertIn("waiting for: collectstatic (1 file)", pending[0]["MESSAGE"])
        done = [e["NVD_STEP"] for e in entries if e.get("MESSAGE_ID") == MSG["step-done"]]
        self.assertEqual(sorted(done), ["collectstatic", "migrate", "web"], entries)
        status = [m for m in msgs if m.startswith("STATUS=")]
        self.assertRegex(status[0], r"^STATUS=nautobot-contract-models: first verification of 2026\.5\.17 installed "
                                    r"[0-9:-]+( [0-9:]+)?; waiting for: collectstatic \(1 file\)$")
        self.assertTrue(any("EXTEND_TIMEOUT_USEC=" in m for m in msgs), msgs)
        self.assertEqual(self.state(conf)["verdict"], "pass")

    def test_django_booted_ahead_only_for_the_code_it_loaded(self):
        """Issue 16, item 13: once migrate is done, Django is booted for the verification
        while the last step is awaited, and the verification takes it over. When a file of
        the code it loaded (nautobot_config.py among them) is written after that boot began,
        it boots again before it answers, and the system check says so; when anything is
        written to site-packages, the verification boots its own, and the daemon says why."""
        config_py = os.path.join(self.tb["NVD_TB_ROOT"], "nautobot_config.py")
        for written in ("nothing", "site-packages", "nautobot_config.py"):
            with self.subTest(written=written):
                static = self.static_copy(f"static-ahead-{written}")
                moved = os.path.join(self.tmp, f"held-back-ahead-{written}.html")
                os.rename(os.path.join(static, DOC), moved)
                conf = self.config(f"ahead-{written}.conf", {**FAST, ("checks", "enable"): "system, " + FAST[("checks", "enable")],
                                                            ("nautobot", "static-root"): static,
                                                            ("watch", "step-interval"): "500ms",
                                                            ("watch", "upgrade-deadline"): "120s"})
                err_path = os.path.join(self.tmp, f"ahead-{written}.err")
                with open(err_path, "w") as err_file:
                    proc = nvdtest.start_daemon(["--if-changed", "-c", conf], stdout=subprocess.PIPE,
                                                stderr=err_file, text=True, env={"PATH": "/usr/bin:/bin"})

                def stderr_text():
                    with open(err_path) as f:
                        return f.read()
                deadline = time.monotonic() + 60
                while "booting Django for the verification while the restarts are awaited" not in stderr_text():
                    self.assertLess(time.monotonic(), deadline, f"no boot ahead: {stderr_text()}")
                    self.assertIsNone(proc.poll(), stderr_text())
                    time.sleep(0.2)
                was = os.stat(config_py)
                if written == "site-packages":  # a distribution added and removed (pip, say)
                    marker = os.path.join(self.tb["NVD_TB_SITE_PACKAGES"], f"nvd-test-{uuid.uuid4().hex}")
                    os.mkdir(marker)
                    os.rmdir(marker)
                elif written == "nautobot_config.py":  # an admin's edit
                    os.utime(config_py)
                try:
                    os.rename(moved, os.path.join(static, DOC))  # the admin runs collectstatic
                    out, _ = proc.communicate(timeout=120)
                finally:
                    os.utime(config_py, ns=(was.st_atime_ns, was.st_mtime_ns))
                err = stderr_text()
                self.assertEqual(proc.returncode, 0, out + err)
                entries = nvdtest.journal_entries(proc.pid, nvdtest.RUN_ENTRIES)
                self.assertEqual([e["NVD_RESULT"] for e in entries if e.get("NVD_CHECK") == "summary"], ["pass"])
                refused = ("Django booted ahead is not used (site-packages was written after it started): "
                           "the verification boots its own")
                if written == "site-packages":
                    self.assertIn(refused, err)
                else:
                    self.assertNotIn("Django booted ahead is not used", err)
                system = [e for e in entries if e.get("NVD_CHECK") == "system"]
                self.assertEqual([e["NVD_RESULT"] for e in system], ["pass"], entries)
                findings = system[0].get("NVD_FINDING", [])
                findings = findings if isinstance(findings, list) else [findings]
                again = [f for f in findings if f.startswith("Django was booted again for this verification")]
                if written == "nautobot_config.py":
                    self.assertEqual(again, [f"Django was booted again for this verification: {config_py} was "
                                             "written after it was booted ahead of the restarts"], entries)
                else:
                    self.assertEqual(again, [], entries)
                # Either way the verification had Django's answers: the Jobs it registers.
                jobs = [e for e in entries if e.get("NVD_CHECK") == "jobs"]
                self.assertEqual([e["NVD_RESULT"] for e in jobs], ["pass"], entries)
                self.assertIn("expected Jobs are installed", jobs[0]["NVD_REASON"])

    def test_watcher_reloads_while_following(self):
        # SIGHUP while an upgrade's step is pending: the new configuration waits for the
        # verification; the follow goes on and ends in one pass.
        static = self.static_copy("static-reload")
        moved = os.path.join(self.tmp, "held-back-reload.html")
        os.rename(os.path.join(static, DOC), moved)
        conf = self.config("reload.conf", {**FAST, ("nautobot", "static-root"): static,
                                           ("watch", "step-interval"): "300ms",
                                           ("watch", "upgrade-deadline"): "120s"})
        notify = nvdtest.NotifySocket()
        proc = nvdtest.start_daemon(["--watch", "-c", conf], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True, env={"PATH": "/usr/bin:/bin", "NOTIFY_SOCKET": notify.path})
        try:
            msgs = []
            deadline = time.monotonic() + 60
            while not any("waiting for: collectstatic (1 file)" in m for m in msgs):
                self.assertLess(time.monotonic(), deadline, f"no pending step in STATUS=: {msgs}")
                msgs += notify.messages()
            proc.send_signal(signal.SIGHUP)
            time.sleep(1.0)  # rounds go on with the configuration they started with
            self.assertIsNone(proc.poll(), "the watcher died on SIGHUP while following an upgrade")
            msgs += notify.messages()
            self.assertTrue(any("it applies when the running verification ends" in m for m in msgs), msgs)
            os.rename(moved, os.path.join(static, DOC))
            entries = nvdtest.journal_entries(proc.pid, 1, timeout=60, field="NVD_PASSED")
            self.assertEqual([e["NVD_RESULT"] for e in entries if e.get("NVD_CHECK") == "summary"], ["pass"])
            self.assertIsNone(proc.poll())
        finally:
            proc.terminate()
            proc.communicate(timeout=60)
            notify.close()

    def test_deadline_fails_naming_the_step(self):
        static = self.static_copy("static-deadline")
        os.unlink(os.path.join(static, DOC))
        conf = self.config("deadline.conf", {**FAST, ("nautobot", "static-root"): static,
                                             ("watch", "step-interval"): "500ms",
                                             ("watch", "upgrade-deadline"): "3s"})
        r = nvdtest.Run(conf, args=["--if-changed"])
        self.assertEqual(r.code, 1, r.dump())
        self.assertResult(r, "static", "fail", "run \"nautobot-server collectstatic --no-input\"")
        self.assertIn(DOC, r.check("static")["NVD_REASON"])
        late = [e for e in r.entries if e.get("MESSAGE_ID") == MSG["upgrade-deadline"]]
        self.assertEqual(len(late), 1, r.dump())
        self.assertIn("still waiting for collectstatic (1 file) after 3 s", late[0]["MESSAGE"])
        # Verdicts come after the deadline entry, never before.
        first_check = min(int(e["__REALTIME_TIMESTAMP"]) for e in r.entries if "NVD_CHECK" in e)
        self.assertGreater(first_check, int(late[0]["__REALTIME_TIMESTAMP"]))
        self.assertEqual(self.state(conf)["verdict"], "fail")

    def test_stale_failure_is_corrected(self):
        dead = f"http://127.0.0.1:{nvdtest.free_port()}"
        web = {("checks", "enable"): "versions, jobs, panels"}
        conf = self.config("stale.conf", {**web, ("nautobot", "url"): dead, ("nautobot", "http-timeout"): "5s"})
        first = nvdtest.Run(conf, args=["--if-changed"])
        self.assertNotEqual(first.code, 0, first.dump())
        self.assertNotEqual(self.state(conf)["verdict"], "pass")
        # The web server is back (the right URL): the next activation verifies again.
        conf = self.config("stale.conf", web)
        second = nvdtest.Run(conf, args=["--if-changed"])
        self.assertEqual(second.code, 0, second.dump())
        recheck = [c for c in second.changes() if c["NVD_CHANGE"] == "recheck"]
        # Both watched packages were recorded with that verdict; the run verifies them both.
        self.assertEqual(sorted(c["NVD_PACKAGE"] for c in recheck), ["nautobot", "nautobot-contract-models"],
                         second.dump())
        recheck = [c for c in recheck if c["NVD_PACKAGE"] == "nautobot-contract-models"]
        self.assertIn("re-verification of 2026.5.17; last verdict:", recheck[0]["MESSAGE"])
        self.assertEqual(second.check("summary")["NVD_RESULT"], "pass")
        self.assertEqual(self.state(conf)["verdict"], "pass")
        third = nvdtest.Run(conf, args=["--if-changed"], expect_entries=0)
        self.assertEqual(third.code, 0, third.dump())
        self.assertFalse([e for e in third.entries if "NVD_CHECK" in e], "verified again after a pass")

    def test_aborted_run_is_not_recorded(self):
        marker = f"NVD_TEST_MARKER={uuid.uuid4().hex}"
        env_file = os.path.join(self.tmp, "abort.env")
        with open(self.tb["NVD_TB_ENV_FILE"]) as src, open(env_file, "w") as dst:
            dst.write(src.read().rstrip("\n") + f"\n{marker}\n")
        conf = self.config("abort.conf", {("nautobot", "environment-file"): env_file,
                                          ("checks", "enable"): "versions, system, migrations"})
        proc = nvdtest.start_daemon(["--if-changed", "-c", conf], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, env={"PATH": "/usr/bin:/bin"})
        deadline = time.monotonic() + 60
        while not nvdtest.processes_with(marker):
            self.assertLess(time.monotonic(), deadline, "the checks never started")
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 2, out + err)
        self.assertIsNone(self.state(conf), "an aborted run was recorded as verified")
        again = nvdtest.Run(conf, args=["--if-changed"])
        self.assertEqual(again.code, 0, again.dump())
        self.assertEqual(again.check("summary")["NVD_RESULT"], "pass")

    def test_unsettled_install_is_not_nothing_changed(self):
        site = os.path.join(self.tmp, "unsettled-site-packages")
        os.makedirs(site)
        for entry in os.listdir(self.tb["NVD_TB_SITE_PACKAGES"]):
            if entry.startswith(("nautobot-", "nautobot_contract_models-")) and entry.endswith(".dist-info"):
                shutil.copytree(os.path.join(self.tb["NVD_TB_SITE_PACKAGES"], entry), os.path.join(site, entry))
        # pip stopped half-way: the old release's dist-info next to the new one.
        shutil.copytree(os.path.join(site, "nautobot_contract_models-2026.5.17.dist-info"),
                        os.path.join(site, "nautobot_contract_models-2026.5.12.dist-info"))
        conf = self.config("unsettled.conf", {("checks", "enable"): "versions, jobs, panels",
                                              ("nautobot", "site-packages"): site,
                                              ("watch", "quiet-period"): "200ms",
                                              ("watch", "settle-timeout"): "2s"})
        r = nvdtest.Run(conf, args=["--if-changed"], expect_entries=0)
        self.assertEqual(r.code, 2, r.dump())
        self.assertNotIn("Nothing changed", "".join(r.messages))
        self.assertTrue(any(m.startswith("READY=1\nSTATUS=Not verified: nautobot-contract-models:") for m in r.messages), r.dump())
        self.assertIn("more than one dist-info", r.stderr)


if __name__ == "__main__":
    nvdtest.main()
