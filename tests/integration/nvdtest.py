# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared helpers for the integration tests.

They run the real built nautobot-verifyd against the real test bed (a Nautobot
started by tests/testbed/nvd-testbed), read results back from a real
systemd-journald with journalctl -o json, and receive sd_notify datagrams on a
real NOTIFY_SOCKET. Only the standard library is used.
"""

import contextlib
import json
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

SKIP = 77

# Every check, in report order (lib/checks/check.c's table); a run writes one entry each plus a summary.
CHECKS = ("versions", "system", "migrations", "database", "static", "restarts", "running", "jobs", "panels")
# On the host there is no systemd PID 1: "restarts" does not apply there (tests/systemd runs it).
HOST_CHECKS = tuple(c for c in CHECKS if c != "restarts")
RUN_ENTRIES = len(CHECKS) + 1

BUILD_DIR = os.environ.get("NVD_BUILD_DIR", "")
DAEMON = os.path.join(BUILD_DIR, "daemon", "verifyd", "nautobot-verifyd")
TESTBED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed", "nvd-testbed")
# The Django probe from the source tree (an installed daemon finds its own).
PROBE = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib", "checks", "probe",
                                      "nautobot-verifyd-probe.py"))
# The app profiles from the source tree (an installed daemon finds its own).
PROFILES = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib", "checks",
                                         "profiles"))

# The MESSAGE_IDs documented in README.md (daemon/verifyd/report.h).
MSG = {
    "check-pass": "76e5e18b57a545b8b1ba8effeae5a470",
    "check-fail": "61fcf2114eb24d368a6b9ccb3f965055",
    "check-error": "ae1f7012cc0b4cde9550eeed7b821294",
    "check-skipped": "24f41cf29c5a4b81a7f6f75f93bef3b5",
    "summary-pass": "116f2dc905454e4a81122ce54029cac4",
    "summary-fail": "233cbdb98f464f7abc7a797f4f9abcf6",
    "summary-incomplete": "6bf094fc905a4ba4a496798b36492480",
    "version-changed": "e00c073c9a14445a838e3784f6b61c93",
    "rollback": "f479027b0433432eaca71defd0f038df",
    "removed": "c09981b1d5174c068fa073dcdaf53317",
    "unchanged": "94294bb44cd6480fa2f7fe3ab87cf14b",
    "state-problem": "557025c717f24b919b6aaf244538bbf7",
    "reload-failed": "b9e8f82e8cef48808a642a1fb3c0e038",
    "upgrade-pending": "a51c6c888a33486595b03e2dfe2e37ab",
    "step-done": "63763207fc30477f8b34d55fb5d18be6",
    "upgrade-deadline": "d34389b5b5b84f76b4bb885a33a7ad2d",
}


def skip(reason):
    print(f"SKIP: {reason}")
    sys.exit(SKIP)


def load_testbed():
    """The instance.env of the running test bed, as a dict; skips when absent."""
    path = os.environ.get("NVD_TB_ENV")
    if not path:
        skip("NVD_TB_ENV is not set: run the suite through tests/run, which brings the test bed up")
    if not os.path.exists(path):
        raise RuntimeError(f"NVD_TB_ENV={path} does not exist: the test bed is not up")
    env = read_instance_env(path)
    if not os.access(DAEMON, os.X_OK):
        raise RuntimeError(f"{DAEMON} is not built (NVD_BUILD_DIR={BUILD_DIR!r})")
    return env


def read_instance_env(path):
    """A test-bed instance.env (shell-quoted KEY=VALUE lines) as a dict."""
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, _, value = line.partition("=")
            parts = shlex.split(value)
            env[key] = parts[0] if parts else ""
    return env


def ensure_journald():
    """A journald that answers (started standalone when absent; see tests/testbed/ensure-journald)."""
    script = os.path.join(os.path.dirname(TESTBED), "ensure-journald")
    p = subprocess.run([script], capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        if os.geteuid() != 0:
            skip(f"no systemd-journald: {p.stderr.strip()}")
        raise RuntimeError(f"cannot start systemd-journald: {p.stderr.strip()}")


_started = {}  # pid -> CLOCK_REALTIME µs at start: PIDs get reused across runs


def start_daemon(args, **popen_kw):
    """Starts the built daemon; journal_entries() then reads only this process's entries."""
    t0 = time.time_ns() // 1000
    proc = subprocess.Popen([DAEMON, *args], **popen_kw)
    _started[proc.pid] = t0
    return proc


def journal_entries(pid, want, timeout=10.0, field="NVD_CHECK"):
    """The journal entries written by process pid (started by start_daemon), waiting
    until 'want' of them have 'field'."""
    since = _started[pid]
    deadline = time.monotonic() + timeout
    while True:
        out = subprocess.run(["journalctl", "--no-pager", "-o", "json", f"--since=@{since // 1_000_000 - 1}", f"_PID={pid}",
                              "SYSLOG_IDENTIFIER=nautobot-verifyd"],
                             capture_output=True, text=True, timeout=30).stdout
        entries = [e for e in (json.loads(line) for line in out.splitlines() if line.strip())
                   if int(e["__REALTIME_TIMESTAMP"]) >= since]
        if sum(1 for e in entries if field in e) >= want or time.monotonic() > deadline:
            return entries
        time.sleep(0.1)


def system_account(cls):
    """A throwaway system account, as the one Nautobot runs as, removed with the class:
    sets cls.user, cls.uid, cls.gid."""
    cls.user = f"nvd-it-{uuid.uuid4().hex[:8]}"
    subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                    "--shell", "/usr/sbin/nologin", cls.user], check=True, capture_output=True, timeout=60)
    cls.addClassCleanup(subprocess.run, ["userdel", cls.user], capture_output=True, timeout=60)
    pw = pwd.getpwnam(cls.user)
    cls.uid, cls.gid = pw.pw_uid, pw.pw_gid


def reachable_dir(cls, prefix):
    """A 0755 folder under /var/tmp (mkdtemp's 0700 ones an account cannot enter), removed
    with the class."""
    path = tempfile.mkdtemp(prefix=prefix, dir="/var/tmp")
    cls.addClassCleanup(shutil.rmtree, path, ignore_errors=True)
    os.chmod(path, 0o755)
    return path


def free_port():
    """A loopback port nothing listens on (bound, then released)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def silent_listener():
    """A loopback socket that accepts connections into its backlog and never answers."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    return s


@contextlib.contextmanager
def extra_instance(name, *up_args):
    """A second real test-bed server for faults that need other settings; yields its URL."""
    port = free_port()
    up = subprocess.run([TESTBED, "up", "--name", name, "--port", str(port), *up_args],
                        capture_output=True, text=True, timeout=300)
    if up.returncode != 0:
        raise RuntimeError(f"nvd-testbed up --name {name} failed: {up.stderr[-2000:]}")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        subprocess.run([TESTBED, "down", "--name", name], capture_output=True, timeout=120)


def venv_with_app(dest, version, package="nautobot-contract-models"):
    """A private copy of the test bed's virtualenv holding another release of the app
    (or of another app in it: package=tb["NVD_TB_APP2_PACKAGE"], version=tb["NVD_TB_APP2_OLD_VERSION"]).

    Returns (venv, site-packages)."""
    subprocess.run([TESTBED, "venv-copy", dest], check=True, capture_output=True, timeout=300)
    subprocess.run([os.path.join(dest, "bin", "pip"), "install", "-q", f"{package}=={version}"],
                   check=True, capture_output=True, timeout=600)
    site = subprocess.run([os.path.join(dest, "bin", "python"), "-c",
                           "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    return dest, site


def processes_with(marker):
    """PIDs whose environment holds marker (to prove nothing was left running)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if marker.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


class NotifySocket:
    """A real sd_notify datagram socket, like the one systemd gives a service.

    A thread drains it at once, as systemd does: the kernel queues only ~10
    datagrams, and a sender blocks when the queue is full.
    """

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="nvd-notify-")
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        # Like systemd's own notify socket: reachable by a daemon that dropped root (privilege.h).
        os.chmod(self.dir, 0o755)
        os.chmod(self.path, 0o777)
        self.sock.settimeout(0.2)
        self.received = []
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self):
        while self.running:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.received.append(data.decode())

    def messages(self):
        """Everything not returned before, in arrival order."""
        time.sleep(0.05)
        with self.lock:
            msgs, self.received = self.received, []
        return msgs

    def close(self):
        self.running = False
        self.thread.join(timeout=5)
        self.sock.close()
        os.unlink(self.path)
        os.rmdir(self.dir)


def state_dir_for(config_path):
    """Each test config keeps its own state, so tests do not see each other's runs."""
    return os.path.splitext(config_path)[0] + ".state"


def write_config(tb, path, extra=None, **overrides):
    """A config for the test bed, with [section] key overrides: {('nautobot','url'): ...}
    (None leaves the key out; a new section such as 'app nautobot-dns-models' is added)."""
    sections = {
        "nautobot": {
            "server": tb["NVD_TB_SERVER"],
            "root": tb["NVD_TB_ROOT"],
            "environment-file": tb["NVD_TB_ENV_FILE"],
            "site-packages": tb["NVD_TB_SITE_PACKAGES"],
            "command-timeout": "180",
            "url": tb["NVD_TB_URL"],
            "http-timeout": "30",
            "probe": PROBE,
        },
        "credentials": {
            "username": tb["NVD_TB_USER"],
            "password-file": tb["NVD_TB_PASSWORD_FILE"],
            "token-file": tb["NVD_TB_TOKEN_FILE"],
        },
        "package": {"name": "nautobot-contract-models", "app-label": "nautobot_contract_models"},
        "watch": {"state-directory": state_dir_for(path)},
        "database": {},
        "checks": {"profiles": PROFILES},
    }
    # The test bed's venv belongs to root: as root the daemon runs nautobot-server as root
    # only when told so (tests/integration/test_run_as_root.py covers the other account).
    if os.geteuid() == 0 and os.stat(tb["NVD_TB_SERVER"]).st_uid == 0:
        sections["nautobot"]["user"] = "root"
    for (section, key), value in (extra or {}).items():
        if value is None:  # left out: the daemon's default
            sections.setdefault(section, {}).pop(key, None)
        else:
            sections.setdefault(section, {})[key] = value
    with open(path, "w") as f:
        for section, keys in sections.items():
            f.write(f"[{section}]\n")
            for key, value in keys.items():
                f.write(f"{key} = {value}\n")
    return path


class Run:
    """One nautobot-verifyd --once run: exit code, output, notify messages, journal."""

    def __init__(self, config, expect_entries=RUN_ENTRIES, env=None, notify=True, timeout=600, args=("--once",)):
        self.notify = NotifySocket() if notify else None
        run_env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
        if self.notify:
            run_env["NOTIFY_SOCKET"] = self.notify.path
        run_env.update(env or {})
        self.proc = start_daemon([*args, "--config", config],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=run_env, text=True)
        self.pid = self.proc.pid
        self.stdout, self.stderr = self.proc.communicate(timeout=timeout)
        self.code = self.proc.returncode
        self.messages = self.notify.messages() if self.notify else []
        if self.notify:
            self.notify.close()
        self.entries = journal_entries(self.pid, expect_entries)

    def changes(self):
        return [e for e in self.entries if "NVD_CHANGE" in e and "NVD_CHECK" not in e]

    def check(self, name):
        found = [e for e in self.entries if e.get("NVD_CHECK") == name]
        if len(found) != 1:
            raise AssertionError(f"expected one journal entry for {name}, got {len(found)}:\n{self.dump()}")
        return found[0]

    def findings(self, name):
        value = self.check(name).get("NVD_FINDING", [])
        return value if isinstance(value, list) else [value]

    def dump(self):
        return (f"exit {self.code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}\n"
                f"--- notify\n{self.messages}\n--- journal\n"
                + "\n".join(json.dumps({k: v for k, v in e.items() if k.startswith(("NVD_", "MESSAGE", "PRIORITY"))})
                            for e in self.entries))


class TestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tb = load_testbed()
        ensure_journald()
        cls.tmp = tempfile.mkdtemp(prefix="nvd-it-")

    def config(self, name="nvd.conf", extra=None):
        return write_config(self.tb, os.path.join(self.tmp, name), extra)

    def assertResult(self, run, check, result, reason_part=None):
        entry = run.check(check)
        self.assertEqual(entry["NVD_RESULT"], result, run.dump())
        if reason_part:
            self.assertIn(reason_part, entry["NVD_REASON"], run.dump())
        return entry


def main():
    """unittest's main, except that a suite whose every test was skipped exits 77, so meson
    counts a skip as a skip (each skipped test says why)."""
    prog = unittest.main(verbosity=2, exit=False)
    result = prog.result
    if not result.wasSuccessful():
        sys.exit(1)
    if result.testsRun > 0 and len(result.skipped) == result.testsRun:
        sys.exit(SKIP)
    sys.exit(0)
