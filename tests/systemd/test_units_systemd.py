# SPDX-License-Identifier: LGPL-2.1-or-later
"""nautobot-verifyd's units under a real systemd PID 1, next to a real Nautobot.

One container (tests/systemd/nvdcontainer.py) boots the cached Debian 12 image;
the daemon is installed into it with "meson install --destdir" as a package
would lay it out; a test-bed Nautobot provisioned by "nvd-testbed up --no-start"
at the OLD release of the app (what an admin has before upgrading), with a
private venv, runs in it as nautobot.service (uWSGI, Type=notify),
nautobot-worker.service and nautobot-scheduler.service, against the host's
PostgreSQL and Redis. The tests then walk an admin's path: the watcher on the
old release, the upgrade (an upgrade unit chained to the activated check), the
.path activation, the watcher seeing a reinstall, reload, the watchdog, the
sandbox and systemd-analyze security, and nautobot-verifyctl verify --wait
(as text and as --json) starting the check unit for a forced run.

The tests run in order (test_01 ... test_08) and share the container.
Exits 77 with the reason when the harness cannot run here (not root, no
systemd-nspawn); anything else that goes wrong is a failure.
"""

import json
import os
import re
import sys
import tempfile
import time
import unittest

import nvdscenario as ns
from nvdscenario import APP, CHECK, NEW, OLD, PATH_UNIT, WATCHER, log, now_us
from test_verifyctl import validator  # tests/integration (nvdscenario put it on the path)

SKIP = 77
SUMMARY_PASS = ns.MSG["summary-pass"]
UNCHANGED = ns.MSG["unchanged"]
NAUTOBOT_UNITS = list(ns.ALL_NAUTOBOT_UNITS)
TIMINGS = {}


class VerifydUnits(unittest.TestCase):
    s = None

    @classmethod
    def setUpClass(cls):
        t = time.monotonic()
        cls.s = ns.Scenario("sd", units=NAUTOBOT_UNITS, timings=TIMINGS).__enter__()
        cls.c, cls.tb = cls.s.c, cls.s.tb
        TIMINGS["setUpClass total"] = time.monotonic() - t

    @classmethod
    def tearDownClass(cls):
        if cls.s is not None:
            cls.s.stop()
            cls.s = None

    # --- helpers --------------------------------------------------------------
    def api(self, path):
        return self.s.api(path)

    def entries(self, unit, since):
        return self.s.entries(unit, since)

    def wait_summary(self, unit, since, timeout=300):
        return self.s.wait_summary(unit, since, timeout)

    def dump(self, unit, since):
        return self.s.dump(unit, since)

    def main_pid(self, unit):
        return int(self.c.show(unit, ["MainPID"])["MainPID"])

    def pip(self, *args):
        self.s.pip(*args)

    # --- tests ----------------------------------------------------------------
    def test_01_old_release_runs_as_units(self):
        status = self.api("/api/status/")
        self.assertEqual(status["nautobot-apps"].get("nautobot_contract_models"), OLD, status)
        self.assertGreaterEqual(status["celery-workers-running"], 1, status)
        web = self.c.show("nautobot.service", ["Type", "ActiveState", "StatusText", "MainPID"])
        self.assertEqual((web["Type"], web["ActiveState"]), ("notify", "active"), web)
        self.assertIn("ready", web["StatusText"], web)
        for unit in NAUTOBOT_UNITS:
            self.assertEqual(self.c.show(unit, ["SubState"])["SubState"], "running", unit)

    def test_02_watcher_starts_on_old_release(self):
        since = now_us()
        t = time.monotonic()
        self.c.systemctl("start", WATCHER)
        TIMINGS["systemctl start nautobot-verifyd (READY)"] = time.monotonic() - t
        s = self.c.show(WATCHER, ["Type", "ActiveState", "SubState", "StatusText", "NotifyAccess", "NRestarts"])
        self.assertEqual((s["Type"], s["ActiveState"], s["SubState"]), ("notify", "active", "running"), s)
        # First sight of the installed release: it is verified once.
        t = time.monotonic()
        summary = self.wait_summary(WATCHER, since)
        TIMINGS["first verification (watcher, old release)"] = time.monotonic() - t
        log(f"verdict on the old release {OLD}: {summary.get('NVD_RESULT')} {summary.get('MESSAGE', '')}")
        self.assertIn(summary["NVD_RESULT"], ("pass", "fail"), self.dump(WATCHER, since))
        versions = {e.get("NVD_VERSION") for e in self.entries(WATCHER, since) if e.get("NVD_PACKAGE") == APP}
        self.assertIn(OLD, versions, self.dump(WATCHER, since))
        self.c.wait_until(lambda: "Watching" in self.c.show(WATCHER, ["StatusText"])["StatusText"], 30,
                          "StatusText Watching…")
        # LoadCredential=: the secrets reached it only that way (the config names
        # no files) and the web and API checks authenticated with them.
        for name in ("jobs", "panels"):
            entry = [e for e in self.entries(WATCHER, since) if e.get("NVD_CHECK") == name]
            self.assertTrue(entry and entry[-1]["NVD_RESULT"] in ("pass", "fail"), self.dump(WATCHER, since))
        environ = self.proc_file(self.main_pid(WATCHER), "environ")
        self.assertIn("CREDENTIALS_DIRECTORY=/run/credentials/nautobot-verifyd.service", environ)
        creds = self.c.run(["stat", "-c", "%a %U %n", "/run/credentials/nautobot-verifyd.service/web-password",
                            "/run/credentials/nautobot-verifyd.service/api-token"]).stdout.split("\n")
        for line in filter(None, creds):
            self.assertTrue(line.startswith("400 nautobot "), creds)
        # StateDirectory=: the instance's folder and state file, owned by the service's user.
        st = self.c.run(["sh", "-c", "stat -c '%a %U %n' /var/lib/nautobot-verifyd /var/lib/nautobot-verifyd/*"
                         " /var/lib/nautobot-verifyd/*/*"]).stdout
        self.assertIn("700 nautobot /var/lib/nautobot-verifyd\n", st)
        self.assertIn("700 nautobot /var/lib/nautobot-verifyd/default\n", st)
        self.assertRegex(st, r"nautobot /var/lib/nautobot-verifyd/default/nautobot-contract-models\.json")
        self.c.systemctl("stop", WATCHER)

    def test_03_upgrade_unit_then_check_service_passes(self):
        tb = self.tb
        venv = tb["NVD_TB_VENV"]
        # The upgrade unit of nautobot-verifyd-check.service's comment, for this
        # test bed (root: the test bed's files are root's). pip runs on the
        # host, whose pip configuration (proxy, CA) reaches the package index;
        # the rest of the upgrade runs as the unit.
        self.c.write_file("/etc/systemd/system/nautobot-upgrade.service", f"""\
[Unit]
Description=Upgrade Nautobot apps, then verify
OnSuccess={CHECK}
[Service]
Type=oneshot
EnvironmentFile={tb["NVD_TB_ENV_FILE"]}
ExecStart={venv}/bin/nautobot-server migrate --no-input
ExecStart={venv}/bin/nautobot-server collectstatic --no-input
ExecStart=/bin/systemctl restart {" ".join(NAUTOBOT_UNITS)}
ExecStart=/usr/bin/curl -fsS -o /dev/null --retry 60 --retry-delay 1 --retry-connrefused {tb["NVD_TB_URL"]}/health/
# a worker answering (the "running" check asks for one)
ExecStart=/bin/sh -c 'for i in $(seq 20); do {venv}/bin/nautobot-server celery inspect ping --timeout 3 >/dev/null 2>&1 && exit 0; sleep 1; done; exit 1'
TimeoutStartSec=15min
""")
        self.c.daemon_reload()
        since = now_us()
        t = time.monotonic()
        self.pip("install", f"{APP}=={NEW}")
        TIMINGS[f"pip install {APP}=={NEW} (host)"] = time.monotonic() - t
        t = time.monotonic()
        r = self.c.systemctl("start", "nautobot-upgrade.service", timeout=900, check=False)
        TIMINGS["upgrade unit (migrate, collectstatic, restart, worker ping)"] = time.monotonic() - t
        self.assertEqual(r.returncode, 0, r.stderr + self.c.unit_log("nautobot-upgrade.service", 60))
        t = time.monotonic()
        summary = self.wait_summary(CHECK, since, timeout=600)
        TIMINGS["verification by the check service after the upgrade"] = time.monotonic() - t
        dump = self.dump(CHECK, since)
        changes = [e for e in self.entries(CHECK, since) if e.get("NVD_PACKAGE") == APP and "NVD_CHANGE" in e]
        self.assertTrue(changes, dump)
        self.assertEqual((changes[0]["NVD_CHANGE"], changes[0]["NVD_OLD_VERSION"], changes[0]["NVD_NEW_VERSION"]),
                         ("upgrade", OLD, NEW), dump)
        self.assertEqual(summary["NVD_RESULT"], "pass", dump)
        self.assertEqual(summary["MESSAGE_ID"], SUMMARY_PASS, dump)
        self.c.wait_until(lambda: self.c.show(CHECK, ["ActiveState"])["ActiveState"] in ("inactive", "failed"),
                          120, "the check service to finish")
        self.assertEqual(self.c.show(CHECK, ["Result"])["Result"], "success", dump)
        self.assertEqual(self.api("/api/status/")["nautobot-apps"]["nautobot_contract_models"], NEW)

    def test_04_path_unit_starts_check_on_site_packages_change(self):
        self.c.systemctl("start", PATH_UNIT)
        self.assertEqual(self.c.show(PATH_UNIT, ["ActiveState"])["ActiveState"], "active")
        before = self.c.show(CHECK, ["ExecMainStartTimestampMonotonic"])["ExecMainStartTimestampMonotonic"]
        since = now_us()
        probe = os.path.join(self.tb["NVD_TB_SITE_PACKAGES"], f"nvd_probe_{os.getpid()}")
        os.mkdir(probe)
        t = time.monotonic()
        try:
            def ran():
                s = self.c.show(CHECK, ["ExecMainStartTimestampMonotonic", "ActiveState", "Result"])
                return s if s["ExecMainStartTimestampMonotonic"] != before and s["ActiveState"] == "inactive" else None
            s = self.c.wait_until(ran, 120, f"{PATH_UNIT} to start {CHECK} and the run to end")
            TIMINGS[".path: site-packages change -> check run ended"] = time.monotonic() - t
        finally:
            os.rmdir(probe)
        self.assertEqual(s["Result"], "success", self.dump(CHECK, since))
        ids = [e.get("MESSAGE_ID") for e in self.entries(CHECK, since)]
        self.assertIn(UNCHANGED, ids, self.dump(CHECK, since))  # verified already: nothing changed
        # The removal is a change too; let its run end before going on.
        self.c.wait_until(lambda: self.c.show(CHECK, ["ActiveState"])["ActiveState"] == "inactive"
                          and len([e for e in self.entries(CHECK, since) if e.get("MESSAGE_ID") == UNCHANGED]) >= 2,
                          120, "the check run after the probe's removal")
        self.c.systemctl("stop", PATH_UNIT)

    def test_05_watcher_verifies_reinstall_reload_sandbox(self):
        since = now_us()
        self.c.systemctl("start", WATCHER)
        pid = self.main_pid(WATCHER)
        # Already verified: no run at start. A reinstall is a change.
        t = time.monotonic()
        self.pip("install", "--force-reinstall", "--no-deps", f"{APP}=={NEW}")
        # A reinstall replaces the code the units loaded: the verdict waits for their restart.
        self.c.wait_until(lambda: "waiting for: restart of nautobot.service, nautobot-worker.service, "
                          "nautobot-scheduler.service" in self.s.status_text(WATCHER), 120,
                          "the watcher to wait for the restarts")
        self.c.systemctl("restart", *NAUTOBOT_UNITS, timeout=300)
        summary = self.wait_summary(WATCHER, since)
        TIMINGS["watcher: reinstall -> verdict"] = time.monotonic() - t
        dump = self.dump(WATCHER, since)
        self.assertEqual(summary["NVD_RESULT"], "pass", dump)
        self.assertTrue(any(e.get("NVD_CHANGE") == "reinstall" for e in self.entries(WATCHER, since)), dump)
        self.assertIn("Watching", self.c.show(WATCHER, ["StatusText"])["StatusText"])

        # The sandbox, as the kernel sees the running service.
        status = dict(line.split(":", 1) for line in self.proc_file(pid, "status").splitlines() if ":" in line)
        self.assertEqual(status["NoNewPrivs"].strip(), "1", status)
        self.assertEqual(status["Seccomp"].strip(), "2", status)
        self.assertEqual(int(status["CapEff"].strip(), 16), 0, status)
        # No user namespace of its own (no PrivateUsers=): the account's other processes are
        # visible to its /proc scan, other accounts' are not (ProtectProc=invisible).
        uid_map = [line.split() for line in self.proc_file(pid, "uid_map").splitlines()]
        self.assertEqual(uid_map, [["0", "0", "4294967295"]], uid_map)
        # ProtectSystem=strict: /usr and /etc are read-only in its mount namespace,
        # its state directory is not.
        for path in ("/usr/nvd-probe", "/etc/nvd-probe"):
            r = self.c.run(["nsenter", "-t", str(pid), "-m", "touch", path], check=False)
            self.assertNotEqual(r.returncode, 0, path)
            self.assertIn("Read-only file system", r.stderr, path)
        # PrivateTmp=: a file in the container's /var/tmp is not in the service's.
        self.c.write_file("/var/tmp/nvd-private-probe", "x")
        r = self.c.run(["nsenter", "-t", str(pid), "-m", "ls", "-A", "/var/tmp"], check=False)
        self.assertNotIn("nvd-private-probe", r.stdout, "PrivateTmp=: /var/tmp is private")
        self.assertIn("nvd-testbed", r.stdout, "BindReadOnlyPaths= brings the test bed back")

        # Reload: same process, re-reads its configuration.
        before = self.c.show(WATCHER, ["MainPID", "NRestarts"])
        t = time.monotonic()
        self.c.systemctl("reload", WATCHER)
        TIMINGS["systemctl reload"] = time.monotonic() - t
        after = self.c.show(WATCHER, ["MainPID", "NRestarts", "ActiveState", "SubState"])
        self.assertEqual((after["MainPID"], after["NRestarts"]), (before["MainPID"], before["NRestarts"]), after)
        self.assertEqual((after["ActiveState"], after["SubState"]), ("active", "running"), after)

    def proc_file(self, pid, name):
        """/proc/PID/NAME inside the container (PIDs systemd reports are the container's)."""
        return self.c.run(["cat", f"/proc/{pid}/{name}"]).stdout.replace("\0", "\n")

    def test_06_watchdog_restarts_hung_daemon(self):
        if self.c.show(WATCHER, ["ActiveState"])["ActiveState"] != "active":
            self.c.systemctl("start", WATCHER)
        before = self.c.show(WATCHER, ["MainPID", "NRestarts", "WatchdogUSec"])
        self.assertEqual(before["WatchdogUSec"], "5s", before)
        pid = int(before["MainPID"])
        t = time.monotonic()
        self.c.run(["kill", "-STOP", str(pid)])  # hung: no more WATCHDOG=1

        def restarted():
            s = self.c.show(WATCHER, ["MainPID", "NRestarts", "ActiveState"])
            return s if int(s["NRestarts"]) > int(before["NRestarts"]) and s["ActiveState"] == "active" \
                and s["MainPID"] not in ("0", before["MainPID"]) else None
        s = self.c.wait_until(restarted, 60, "systemd to kill and restart the hung watcher")
        TIMINGS["watchdog: SIGSTOP -> restarted"] = time.monotonic() - t
        killed = [e for e in self.c.journal("-u", WATCHER, "--since", "-2min")
                  if "Watchdog timeout" in e.get("MESSAGE", "") or "watchdog" in e.get("MESSAGE", "")]
        self.assertTrue(killed, self.c.unit_log(WATCHER))
        self.assertEqual(int(s["NRestarts"]), int(before["NRestarts"]) + 1, s)

    def test_07_systemd_analyze_security(self):
        for unit in (WATCHER, CHECK):
            r = self.c.run(["systemd-analyze", "security", "--no-pager", unit], timeout=60, check=False)
            last = [line for line in r.stdout.splitlines() if "Overall exposure level" in line]
            self.assertTrue(last, r.stdout + r.stderr)
            score = float(last[-1].split("Overall exposure level for")[1].split(":")[1].split()[0])
            log(f"systemd-analyze security {unit}: {score}")
            # 1.1: all but PrivateUsers= (0.2 of systemd's weights, 0.1 of the score), which
            # the running check's /proc scan cannot live with (the unit files say why).
            self.assertLessEqual(score, 1.1, r.stdout)
            self.assertNotIn("✓ PrivateUsers=", r.stdout)

    def test_08_verifyctl_verify_wait(self):
        """nautobot-verifyctl verify --wait: the real check unit, forced although nothing changed."""
        # The watcher keeps the same state; one verifier at a time.
        self.c.systemctl("stop", WATCHER, check=False)
        state = self.s.state()
        self.assertEqual((state["version"], state["verdict"]), (NEW, "pass"), state)
        # The check unit on its own: nothing changed, so no verification.
        since = now_us()
        r = self.c.systemctl("start", CHECK, timeout=300, check=False)
        self.assertEqual(r.returncode, 0, r.stderr + self.dump(CHECK, since))
        self.assertIn(UNCHANGED, [e.get("MESSAGE_ID") for e in self.entries(CHECK, since)], self.dump(CHECK, since))
        self.assertEqual(self.s.summaries(CHECK, since), [], self.dump(CHECK, since))

        since = now_us()
        t = time.monotonic()
        r = self.c.run(["nautobot-verifyctl", "verify", "--wait", "--timeout", "10min"], timeout=700, check=False)
        TIMINGS["nautobot-verifyctl verify --wait (forced run)"] = time.monotonic() - t
        out = f"exit {r.returncode}\n--- stdout\n{r.stdout}\n--- stderr\n{r.stderr}\n" + self.dump(CHECK, since)
        log("nautobot-verifyctl verify --wait:\n" + r.stdout + r.stderr)
        self.assertEqual(r.returncode, 0, out)
        self.assertRegex(r.stdout, rf"^Started {CHECK} \(a forced run\): job /org/freedesktop/systemd1/job/\d+\n", out)
        self.assertIn("Verifying even if nothing changed: nautobot-verifyctl verify asked for it "
                      "(/var/lib/nautobot-verifyd/default/force)", r.stdout, out)
        for check in ("versions", "system", "migrations", "database", "static", "restarts", "running", "jobs",
                      "panels"):
            self.assertRegex(r.stdout, rf"(?m)^  {check} +pass ", out)
        self.assertNotIn("\033", r.stdout, "colour or a progress line without a terminal")
        # The forced run happened although nothing changed: one summary, newer than the start.
        summaries = self.s.summaries(CHECK, since)
        self.assertEqual([e["NVD_RESULT"] for e in summaries], ["pass"], out)
        self.assertIn(f"Run {summaries[0]['NVD_RUN_ID']}: {APP} {NEW}, instance default\n", r.stdout, out)
        self.assertRegex(r.stdout, r"\n    Verdict: pass: 9 passed, 0 failed, 0 could not run, 0 skipped, in .*\n"
                                  rf"    Details: nautobot-verifyctl show {summaries[0]['NVD_RUN_ID']}\n", out)
        self.assertNotIn(UNCHANGED, [e.get("MESSAGE_ID") for e in self.entries(CHECK, since)], out)
        self.assertEqual(self.c.show(CHECK, ["Result"])["Result"], "success", out)
        self.c.run(["test", "!", "-e", "/var/lib/nautobot-verifyd/default/force"])  # the request was taken

        # --json: the same forced run, nothing on stdout but one document, valid against the schema.
        since = now_us()
        r = self.c.run(["nautobot-verifyctl", "verify", "--wait", "--json", "--timeout", "10min"], timeout=700,
                       check=False)
        out = f"exit {r.returncode}\n--- stdout\n{r.stdout}\n--- stderr\n{r.stderr}\n" + self.dump(CHECK, since)
        self.assertEqual(r.returncode, 0, out)
        doc = json.loads(r.stdout)
        validator()(doc)
        self.assertEqual((doc["command"], doc["unit"], doc["forced"], doc["joined"], doc["waited"], doc["outcome"],
                          doc["job_result"], doc["exit_status"]),
                         ("verify", CHECK, True, False, True, "verdict", "done", None), out)
        self.assertRegex(doc["job"], r"^/org/freedesktop/systemd1/job/\d+$", out)
        summaries = self.s.summaries(CHECK, since)
        self.assertEqual([e["NVD_RESULT"] for e in summaries], ["pass"], out)
        run = doc["run"]
        self.assertEqual((run["run_id"], run["verdict"], run["version"], run["instance"]),
                         (summaries[0]["NVD_RUN_ID"], "pass", NEW, "default"), out)
        self.assertEqual([(c["check"], c["result"]) for c in run["checks"]],
                         [(check, "pass") for check in ("versions", "system", "migrations", "database", "static",
                                                        "restarts", "running", "jobs", "panels")], out)
        self.c.run(["test", "!", "-e", "/var/lib/nautobot-verifyd/default/force"])

        # Without --wait: the job is queued, the command returns at once.
        since = now_us()
        r = self.c.run(["nautobot-verifyctl", "verify"], timeout=60, check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, rf"^Started {CHECK} \(a forced run\): job /org/freedesktop/systemd1/job/\d+\n")
        summary = self.wait_summary(CHECK, since, timeout=600)
        self.assertEqual(summary["NVD_RESULT"], "pass", self.dump(CHECK, since))
        self.c.wait_until(lambda: self.c.show(CHECK, ["ActiveState"])["ActiveState"] == "inactive", 120,
                          "the check service to finish")

        # On a terminal (script(1)'s pty): colour, and a progress line redrawn in place and cleared
        # before each check's line; no line wider than the terminal.
        since = now_us()
        r = self.c.run(["script", "-qec", "nautobot-verifyctl verify --wait", "/dev/null"], timeout=700,
                       check=False, env={"TERM": "xterm", "COLUMNS": "100"})
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + self.dump(CHECK, since))
        self.assertIn("\r\033[K", r.stdout)
        self.assertRegex(r.stdout, r"\u2026 (\d of 9 checks done|nautobot-verifyd-check\.service), \d+ s", r.stdout)
        self.assertIn("\033[32mpass", r.stdout)
        for line in re.split(r"\r\n|\r|\n", re.sub(r"\033\[[0-9;]*[mK]", "", r.stdout)):
            self.assertLessEqual(len(line), 100, line)
        self.assertEqual([e["NVD_RESULT"] for e in self.s.summaries(CHECK, since)], ["pass"])

        # An instance without its credentials: the unit fails before any verdict; said, exit 2,
        # and the request it was never taken by is not left behind.
        unit = "nautobot-verifyd-check@nvdnone.service"
        r = self.c.run(["nautobot-verifyctl", "verify", "--wait", "--instance", "nvdnone", "--timeout", "2min"],
                       timeout=200, check=False)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn(f"{unit} ended without a verdict (job failed, result ", r.stderr)
        self.assertIn(f"see journalctl -u {unit}", r.stderr)
        self.c.run(["test", "!", "-e", "/var/lib/nautobot-verifyd/nvdnone/force"])
        self.c.run(["rm", "-rf", "/var/lib/nautobot-verifyd/nvdnone"])
        self.c.systemctl("reset-failed", unit, check=False)
        # A unit systemd does not know: refused, its reason, 71.
        self.c.run(["mv", "/lib/systemd/system/nautobot-verifyd-check.service", "/run/nvd-check.service"])
        self.c.daemon_reload()
        try:
            r = self.c.run(["nautobot-verifyctl", "verify"], timeout=60, check=False)
            self.assertEqual(r.returncode, 71, r.stdout + r.stderr)
            self.assertIn(f"Failed to start {CHECK}: Unit {CHECK} not found.", r.stderr)
            self.c.run(["test", "!", "-e", "/var/lib/nautobot-verifyd/default/force"])
        finally:
            self.c.run(["mv", "/run/nvd-check.service", "/lib/systemd/system/nautobot-verifyd-check.service"])
            self.c.daemon_reload()


IP_PROBE = """\
import errno, socket, sys
def send(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.sendto(b"x", (addr, 9))
        return "sent"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
    finally:
        s.close()
loop, other = send("127.0.0.1"), send(sys.argv[1])
print(f"ip-probe: 127.0.0.1 {loop}; {sys.argv[1]} {other}", flush=True)
sys.exit(0 if (loop, other) == ("sent", sys.argv[2]) else 1)
"""


class IpFilter(unittest.TestCase):
    """IPAddressDeny=any + IPAddressAllow=localhost of the shipped units, as the kernel applies it.

    A container with a network namespace of its own (only lo, plus a veth
    pair the test adds, so nothing sent can leave it): the check
    service's own cgroup, with ExecStart= replaced by a UDP probe, may send to
    127.0.0.1 and gets EPERM for the dummy's address; the same probe outside
    the unit reaches both.
    """

    def test_ip_address_deny_is_enforced(self):
        tmp = tempfile.TemporaryDirectory(prefix="nvd-ipf-")
        self.addCleanup(tmp.cleanup)
        destdir = os.path.join(tmp.name, "destdir")
        ns.host(["meson", "install", "-C", ns.BUILD_DIR, "--destdir", destdir, "--no-rebuild", "--quiet"],
                timeout=300)
        with ns.nc.Container(ns.image(), private_network=True, log_dir=tmp.name) as c:
            c.install_tree(destdir, reload=False)
            c.write_file("/usr/local/lib/nvd-ip-probe.py", IP_PROBE)
            for key in ("web-password", "api-token"):
                c.write_file(f"/etc/nautobot-verifyd/{key}", "unused\n", mode=0o600)
            c.drop_in(CHECK, "50-ip-probe",
                      "[Service]\nExecStart=\nExecStart=/usr/bin/python3 /usr/local/lib/nvd-ip-probe.py "
                      "10.254.0.1 EPERM\n")
            c.daemon_reload()
            # A veth pair of the container's own namespace (no dummy driver on this kernel):
            # its address is local, so what is sent to it is delivered here and goes nowhere.
            for cmd in (["ip", "link", "add", "nvd0", "type", "veth", "peer", "name", "nvd1"],
                        ["ip", "addr", "add", "10.254.0.1/32", "dev", "nvd1"],
                        ["ip", "link", "set", "nvd0", "up"], ["ip", "link", "set", "nvd1", "up"]):
                c.run(cmd)
            outside = c.run(["python3", "/usr/local/lib/nvd-ip-probe.py", "10.254.0.1", "sent"], check=False)
            self.assertEqual(outside.returncode, 0, outside.stdout + outside.stderr)
            r = c.systemctl("start", CHECK, check=False, timeout=120)
            line = [e["MESSAGE"] for e in c.journal("-u", CHECK) if e.get("MESSAGE", "").startswith("ip-probe:")]
            log(f"outside the unit: {outside.stdout.strip()}; inside: {line}")
            self.assertEqual(r.returncode, 0, f"{line}\n{c.unit_log(CHECK)}")
            self.assertEqual(line, ["ip-probe: 127.0.0.1 sent; 10.254.0.1 EPERM"])


def main():
    reason = ns.nc.why_not_available()
    if reason:
        print(f"SKIP: {reason}")
        sys.exit(SKIP)
    t0 = time.monotonic()
    prog = unittest.main(verbosity=2, exit=False)
    TIMINGS["whole suite"] = time.monotonic() - t0
    for key, value in TIMINGS.items():
        print(f"timing: {key}: {value:.1f} s")
    sys.exit(0 if prog.result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
