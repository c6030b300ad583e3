# SPDX-License-Identifier: LGPL-2.1-or-later
"""Workers outside systemd units (issue 16, item 10).

The guide warns that without the worker restart "newly added Jobs won't be
picked up". Here a Celery worker is started by hand, in a session and process
group of its own (as supervisord, a container runtime or a shell would), from a
private copy of the test bed's virtualenv. Verified before an install, it
passes; after "pip install" into that virtualenv the same worker runs the code
from before and the running check FAILs naming its pid, its command and what
restarts it; restarted, it passes again.
"""

import os
import signal
import subprocess
import time
import nvdtest

RUNNING_ONLY = {("package", "name"): None, ("package", "app-label"): None, ("checks", "enable"): "running"}


class Workers(nvdtest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.venv = os.path.join(cls.tmp, "venv")
        subprocess.run([nvdtest.TESTBED, "venv-copy", cls.venv], check=True, capture_output=True, timeout=600)
        cls.server = os.path.join(cls.venv, "bin", "nautobot-server")
        cls.env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **nvdtest.read_instance_env(cls.tb["NVD_TB_ENV_FILE"])}
        cls.worker = None
        cls.addClassCleanup(cls.stop_worker)

    @classmethod
    def start_worker(cls):
        log = open(os.path.join(cls.tmp, "worker.log"), "ab")
        cls.worker = subprocess.Popen([cls.server, "celery", "worker", "--loglevel", "WARNING", "--concurrency", "1",
                                       "--hostname", f"nvd-it-hand-{os.getpid()}@%h"],
                                      env=cls.env, stdout=log, stderr=log, start_new_session=True)
        log.close()
        time.sleep(1.5)  # its start time is what is compared, not whether it answers yet

    @classmethod
    def stop_worker(cls):
        if cls.worker and cls.worker.poll() is None:
            os.killpg(cls.worker.pid, signal.SIGTERM)
            try:
                cls.worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(cls.worker.pid, signal.SIGKILL)
                cls.worker.wait(timeout=30)
        cls.worker = None

    def run_(self):
        return nvdtest.Run(self.config("workers.conf", {**RUNNING_ONLY, ("nautobot", "server"): self.server,
                                                        ("nautobot", "site-packages"): None}),
                           expect_entries=2 * nvdtest.RUN_ENTRIES)

    def running(self, r, package="nautobot-contract-models"):
        found = [e for e in r.entries if e.get("NVD_CHECK") == "running" and e.get("NVD_PACKAGE") == package]
        self.assertEqual(len(found), 1, r.dump())
        return found[0]

    def test_worker_started_by_hand_before_and_after_an_install(self):
        self.start_worker()
        r = self.run_()
        self.assertEqual(r.code, 0, r.dump())
        self.assertEqual(self.running(r)["NVD_RESULT"], "pass", r.dump())

        # The admin installs (here: reinstalls the second app) and forgets the worker.
        time.sleep(1.1)
        p = subprocess.run([os.path.join(self.venv, "bin", "pip"), "install", "-q", "--force-reinstall", "--no-deps",
                            f"{self.tb['NVD_TB_APP2_PACKAGE']}=={self.tb['NVD_TB_APP2_VERSION']}"],
                           capture_output=True, text=True, timeout=600)
        self.assertEqual(p.returncode, 0, p.stderr)
        r = self.run_()
        self.assertEqual(r.code, 1, r.dump())
        # The worker still runs the second app's code from before; the other app's is current.
        self.assertEqual(self.running(r)["NVD_RESULT"], "pass", r.dump())
        e = self.running(r, self.tb["NVD_TB_APP2_PACKAGE"])
        self.assertEqual(e["NVD_RESULT"], "fail", r.dump())
        self.assertIn(f"1 of Nautobot's processes on this host started before {self.tb['NVD_TB_APP2_PACKAGE']} "
                      f"{self.tb['NVD_TB_APP2_VERSION']} was installed", e["NVD_REASON"])
        self.assertIn(f"Celery worker pid {self.worker.pid} started ", e["NVD_REASON"])
        self.assertIn(f"kill -TERM {self.worker.pid}, then start it again", e["NVD_REASON"])
        self.assertIn("celery worker", e["NVD_REASON"])

        # Restarted, it runs the installed code.
        self.stop_worker()
        self.start_worker()
        r = self.run_()
        self.assertEqual(r.code, 0, r.dump())
        self.assertEqual(self.running(r, self.tb["NVD_TB_APP2_PACKAGE"])["NVD_RESULT"], "pass", r.dump())


    def test_worker_of_another_host_is_named_not_claimed(self):
        # A worker that names another host (as one on another machine does) answers the broker.
        log = open(os.path.join(self.tmp, "remote.log"), "ab")
        remote = subprocess.Popen([self.server, "celery", "worker", "--loglevel", "WARNING", "--concurrency", "1",
                                   "--hostname", "nvd-it-remote@elsewhere.invalid"],
                                  env=self.env, stdout=log, stderr=log, start_new_session=True)
        log.close()
        try:
            deadline = time.monotonic() + 60
            while True:  # until it answers the broker (the probe asks for 1 s)
                r = self.run_()
                findings = " ".join([f for e in r.entries if e.get("NVD_CHECK") == "running"
                                     for f in (e.get("NVD_FINDING") if isinstance(e.get("NVD_FINDING"), list)
                                               else [e.get("NVD_FINDING", "")])])
                if "nvd-it-remote@elsewhere.invalid" in findings or time.monotonic() > deadline:
                    break
                time.sleep(2)
        finally:
            os.killpg(remote.pid, signal.SIGTERM)
            remote.wait(timeout=30)
        self.assertEqual(r.code, 0, r.dump())
        self.assertEqual(self.running(r)["NVD_RESULT"], "pass", r.dump())
        self.assertRegex(findings, r"Celery worker\(s\) answer from other hosts: [^:]*nvd-it-remote@elsewhere\.invalid "
                                   r"\(pid \d+ there\): whether they were restarted after the install is not verifiable "
                                   r"from this host")


if __name__ == "__main__":
    nvdtest.main()
