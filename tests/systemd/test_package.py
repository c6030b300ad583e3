# SPDX-License-Identifier: LGPL-2.1-or-later
"""From "apt install" to the first verdict, under a real systemd PID 1 (issue 17).

The Debian package is built from a copy of this tree with dpkg-buildpackage
(cached by the tree's content under the test bed's cache directory;
NVD_DEB=PATH uses a .deb built elsewhere). Then:

- its files (dpkg -c) are tests/install/files.txt with Debian's directories,
  plus the documentation debhelper adds; lintian says no error and no warning;
- a Debian 12 container runs Nautobot as its install guide has it (the
  instance owned by the nautobot account, nautobot.service and
  nautobot-worker.service with User=nautobot), on the app's OLD release. An
  admin runs "apt install ./nautobot-verifyd_*.deb": the .path and .timer are
  enabled and skipped on their condition (no unit failed, "systemctl status"
  names the missing configuration), the watcher is not enabled, the journal
  catalog is compiled. "nautobot-verifyctl setup" finds Nautobot from its unit,
  creates the account (not superuser, not staff), its permission and token,
  writes the configuration and the 0600 secrets; run again it changes nothing.
  "nautobot-verifyctl verify --wait" passes every check with that account;
- then the upgrade guide (pip install --upgrade, migrate, collectstatic, the
  restarts): the packaged .path unit's run gives one passing verdict.

Exits 77 with the reason when the harness cannot run (not root, no
dpkg-buildpackage, no systemd-nspawn).
"""

import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import nvdcontainer as nc  # noqa: E402
import nvdscenario as ns  # noqa: E402
from nvdscenario import APP, CHECK, MSG, NEW, OLD, PATH_UNIT, TIMER, WATCHER, host, log, now_us  # noqa: E402
from nvdtest import free_port, read_instance_env  # noqa: E402

SOURCE = os.path.abspath(os.path.join(HERE, "..", ".."))
CACHE_DIR = os.environ.get("NVD_CACHE_DIR", "/var/cache/nautobot-verifyd-testbed")
FILES_TXT = os.path.join(SOURCE, "tests", "install", "files.txt")
# Where Debian 12 puts what files.txt names by variable (debian/rules: meson, --prefix=/usr).
DEBIAN_DIRS = {"bindir": "/usr/bin", "datadir": "/usr/share", "mandir": "/usr/share/man",
               "systemdsystemunitdir": "/lib/systemd/system", "catalogdir": "/usr/lib/systemd/catalog",
               "bashcompletiondir": "/usr/share/bash-completion/completions"}
# What debhelper adds to meson's install: the package's documentation and lintian overrides
# (the manual pages it compresses: files.txt's NAME is NAME.gz here).
DEBIAN_ONLY = {"/usr/share/doc/nautobot-verifyd/copyright", "/usr/share/doc/nautobot-verifyd/changelog.gz",
               "/usr/share/doc/nautobot-verifyd/README.Debian", "/usr/share/lintian/overrides/nautobot-verifyd"}
WEB_WORKER = ("nautobot.service", "nautobot-worker.service")
CONF = "/etc/nautobot-verifyd/nautobot-verifyd.conf"
ACCOUNT = "nautobot-verifyd"
TIMINGS = {}
REPORT = []


def why_not():
    if os.geteuid() != 0:
        return "not root"
    for tool in ("dpkg-buildpackage", "dh", "lintian"):
        if not shutil.which(tool):
            return f"{tool} is not installed (tests/testbed/install-deps installs debhelper, devscripts, lintian)"
    return nc.why_not_available()


def tree_files():
    """The source tree as git sees it (tracked and new files, not the ignored build dirs)."""
    out = subprocess.run(["git", "-C", SOURCE, "ls-files", "-co", "--exclude-standard", "-z"], check=True,
                         capture_output=True, timeout=60).stdout.decode()
    return sorted(p for p in out.split("\0") if p and not p.startswith("build") and
                  os.path.isfile(os.path.join(SOURCE, p)))


def build_deb():
    """The .deb of this tree: built once per content (about 45 s), then cached."""
    if os.environ.get("NVD_DEB"):
        return os.environ["NVD_DEB"], None
    files = tree_files()
    h = hashlib.sha256()
    for p in files:
        h.update(p.encode() + b"\0")
        with open(os.path.join(SOURCE, p), "rb") as f:
            h.update(hashlib.sha256(f.read()).digest())
    out = os.path.join(CACHE_DIR, f"deb-{h.hexdigest()[:12]}")
    debs = glob.glob(os.path.join(out, "nautobot-verifyd_*.deb"))
    if debs:
        return debs[0], None
    t = time.monotonic()
    work = tempfile.mkdtemp(prefix="nvd-deb-")
    try:
        src = os.path.join(work, "nautobot-verifyd")
        for p in files:
            os.makedirs(os.path.dirname(os.path.join(src, p)), exist_ok=True)
            shutil.copy2(os.path.join(SOURCE, p), os.path.join(src, p))
        r = subprocess.run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src, capture_output=True, text=True,
                           timeout=1200)
        if r.returncode != 0:
            raise RuntimeError(f"dpkg-buildpackage failed ({r.returncode}):\n{r.stdout[-4000:]}\n{r.stderr[-3000:]}")
        tmp = out + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        for f in glob.glob(os.path.join(work, "nautobot-verifyd_*")):
            shutil.copy2(f, tmp)
        os.rename(tmp, out)
        # The tree changes often: only its newest package is kept.
        for old in glob.glob(os.path.join(CACHE_DIR, "deb-*")):
            if old != out:
                shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return glob.glob(os.path.join(out, "nautobot-verifyd_*.deb"))[0], time.monotonic() - t


def expected_files():
    want = set()
    with open(FILES_TXT) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                gz = line.startswith("@mandir@/")
                for name, value in DEBIAN_DIRS.items():
                    line = line.replace(f"@{name}@", value)
                want.add(os.path.normpath(line) + (".gz" if gz else ""))
    return want | DEBIAN_ONLY


class Package(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.deb, took = build_deb()
        if took is not None:
            TIMINGS["dpkg-buildpackage (not cached)"] = took
        log(f"package: {cls.deb}")

    def test_1_files(self):
        r = subprocess.run(["dpkg-deb", "-c", self.deb], capture_output=True, text=True, check=True, timeout=60)
        got, modes = set(), {}
        for line in r.stdout.splitlines():
            fields = line.split(None, 5)
            if fields[0].startswith("d"):
                continue
            path = os.path.normpath(fields[5].lstrip("."))
            got.add(path)
            modes[path] = fields[0]
        want = expected_files()
        self.assertEqual(sorted(got - want), [], "in the .deb but not in files.txt")
        self.assertEqual(sorted(want - got), [], "in files.txt but not in the .deb")
        for path, mode in modes.items():
            self.assertEqual(mode, "-rwxr-xr-x" if path.startswith("/usr/bin/") else "-rw-r--r--", path)
        info = subprocess.run(["dpkg-deb", "-f", self.deb, "Version", "Depends"], capture_output=True, text=True,
                              check=True, timeout=60).stdout
        self.assertIn("Version: 0.1.0", info)
        REPORT.append(f"dpkg -c: {len(got)} files = files.txt ({len(want) - len(DEBIAN_ONLY)}) + "
                      f"{len(DEBIAN_ONLY)} of debhelper's documentation")
        # Nothing secret, no account: the maintainer scripts only enable and start units.
        scripts = subprocess.run(["dpkg-deb", "-I", self.deb, "postinst"], capture_output=True, text=True,
                                 timeout=60).stdout
        self.assertNotRegex(scripts, r"useradd|adduser|chpasswd|/etc/nautobot-verifyd|getrandom|urandom")

    def test_2_lintian(self):
        r = subprocess.run(["lintian", "--pedantic", "-I", self.deb], capture_output=True, text=True, timeout=600)
        tags = [line for line in r.stdout.splitlines() if re.match(r"[EWIPX]: ", line)]
        REPORT.append("lintian --pedantic -I: " + ("; ".join(tags) or "no tags (overrides: debian/*.lintian-overrides)"))
        self.assertEqual([t for t in tags if t[0] in "EW"], [], r.stdout + r.stderr)

    def test_3_apt_install_to_verdict(self):
        s = Host(self.deb)
        try:
            s.start()
            s.install_and_verify(self)
            s.upgrade(self)
        finally:
            s.stop()


class Host:
    """A bare Nautobot host as the install guide lays it out, in a container."""

    def __init__(self, deb):
        self.deb = deb
        self.name = f"pkg{os.getpid()}"
        self.tmp = tempfile.mkdtemp(prefix="nvd-pkg-")
        self.c = None
        self.commands = []

    def start(self):
        t = time.monotonic()
        img = ns.image()
        env_path = host([ns.TESTBED, "up", "--name", self.name, "--port", str(free_port()), "--app-version", OLD,
                         "--private-venv", "--no-start"], timeout=1800).strip().splitlines()[-1]
        self.tb = tb = read_instance_env(env_path)
        units = os.path.join(self.tmp, "units")
        os.mkdir(units)
        host([ns.TESTBED, "units", "--name", self.name, units], timeout=60)
        TIMINGS["test bed (old release) and units"] = time.monotonic() - t
        self.c = c = nc.Container(img, binds_rw=[tb["NVD_TB_DIR"]], log_dir=self.tmp)
        c.start()
        for unit in WEB_WORKER:
            with open(os.path.join(units, unit)) as f:
                c.write_file(f"/etc/systemd/system/{unit}", f.read())
            # The install guide's account: Nautobot and its files belong to nautobot.
            c.drop_in(unit, "50-guide", "[Service]\nUser=nautobot\nGroup=nautobot\n")
        c.run(["chown", "-R", "nautobot:nautobot", tb["NVD_TB_DIR"]], timeout=300)
        # Only because of where the test bed lives (not /opt/nautobot): the check unit's
        # PrivateTmp= hides /var/tmp, and the .path unit must watch the real site-packages.
        c.drop_in(CHECK, "50-testbed", f"[Service]\nBindReadOnlyPaths={tb['NVD_TB_DIR']}\n")
        c.drop_in(PATH_UNIT, "50-testbed", f"[Path]\nPathChanged=\nPathChanged={tb['NVD_TB_SITE_PACKAGES']}\n")
        c.daemon_reload()
        t = time.monotonic()
        c.systemctl("start", *WEB_WORKER, timeout=300)
        scen = ns.Scenario.__new__(ns.Scenario)
        scen.c, scen.tb, scen.units = c, tb, WEB_WORKER
        ns.Scenario.wait_nautobot_ready(scen, t)
        TIMINGS["nautobot units started (User=nautobot)"] = time.monotonic() - t
        with open(self.deb, "rb") as f:
            c.write_file("/root/" + os.path.basename(self.deb), f.read())

    def stop(self):
        if self.c is not None:
            self.c.power_off()
        subprocess.run([ns.TESTBED, "down", "--name", self.name], capture_output=True, timeout=300)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def admin(self, argv, timeout=600, check=True):
        """One command the admin types, counted and timed."""
        t = time.monotonic()
        r = self.c.run(argv, timeout=timeout, check=False, env={"DEBIAN_FRONTEND": "noninteractive"})
        self.commands.append((" ".join(argv), time.monotonic() - t, r.returncode))
        log(f"# {' '.join(argv)}  (exit {r.returncode}, {time.monotonic() - t:.1f} s)\n{r.stdout}{r.stderr}")
        if check and r.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
        return r

    def failed_units(self):
        r = self.c.systemctl("list-units", "--failed", "--plain", "--no-legend", check=False)
        return sorted(line.split()[0] for line in r.stdout.splitlines() if line.strip())

    def manage_shell(self, code):
        return host([ns.TESTBED, "manage", "--name", self.name, "--", "shell", "--no-startup", "--no-imports",
                     "-v", "0", "--command", code], timeout=300)

    def install_and_verify(self, t):
        c = self.c
        failed_before = self.failed_units()
        since = now_us()
        t0 = time.monotonic()
        # What the README says, in the directory the admin copied the package to.
        self.admin(["sh", "-c", "cd /root && exec apt install -y ./nautobot-verifyd_*.deb"], timeout=300)
        # Installed, not configured: nothing failed, the pair is enabled and waits, the watcher is not enabled.
        t.assertEqual(self.failed_units(), failed_before)
        for unit, state in ((PATH_UNIT, "enabled"), (TIMER, "enabled"), (WATCHER, "disabled")):
            t.assertEqual(c.systemctl("is-enabled", unit, check=False).stdout.strip(), state, unit)
        st = c.systemctl("status", "--no-pager", "--lines=0", PATH_UNIT, check=False).stdout
        log(st)
        t.assertIn(f"ConditionPathExists={CONF} was not met", st)
        t.assertIn("(configured by nautobot-verifyctl setup)", st)  # what to do, in the status
        t.assertIn("man:nautobot-verifyctl(1)", st)
        # The catalog: systemd's dpkg trigger ran journalctl --update-catalog.
        cat = c.run(["journalctl", "--list-catalog", MSG["summary-pass"]], check=False).stdout
        t.assertIn(MSG["summary-pass"], cat)

        r = self.admin(["nautobot-verifyctl", "setup"])
        t.assertRegex(r.stdout, r"Account nautobot-verifyd: created, not superuser, not staff")
        t.assertIn("extras.job", r.stdout)
        t.assertIn("nautobot_contract_models.contract", r.stdout)
        t.assertIn("Next: nautobot-verifyctl verify --wait", r.stdout)
        for name, mode in (("nautobot-verifyd.conf", "644"), ("web-password", "600"), ("api-token", "600")):
            t.assertEqual(c.run(["stat", "-c", "%a %U %G", f"/etc/nautobot-verifyd/{name}"]).stdout.split(),
                          [mode, "root", "root"], name)
        conf = c.run(["cat", CONF]).stdout
        log(conf)
        t.assertIn(f"server = {self.tb['NVD_TB_SERVER']}", conf)
        t.assertIn(f"url = {self.tb['NVD_TB_URL']}", conf)
        t.assertIn("user = nautobot", conf)
        t.assertEqual(c.show(PATH_UNIT, ["ActiveState"])["ActiveState"], "active")
        t.assertEqual(c.show(TIMER, ["ActiveState"])["ActiveState"], "active")

        r = self.admin(["nautobot-verifyctl", "verify", "--wait"], timeout=900, check=False)
        first_verdict = time.monotonic() - t0
        t.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        summaries = [e for e in c.journal("-t", "nautobot-verifyd", f"--since=@{since // 1_000_000 - 1}")
                     if e.get("NVD_CHECK") == "summary"]
        t.assertTrue(summaries and all(e["NVD_RESULT"] == "pass" for e in summaries), r.stdout)
        checks = [e for e in c.journal("-t", "nautobot-verifyd", f"--since=@{since // 1_000_000 - 1}")
                  if e.get("NVD_CHECK") not in (None, "summary") and e.get("NVD_RESULT")]
        bad = [(e["NVD_CHECK"], e["NVD_RESULT"]) for e in checks if e["NVD_RESULT"] not in ("pass", "skipped")]
        t.assertEqual(bad, [], r.stdout)
        TIMINGS["apt install -> first verdict (3 commands)"] = first_verdict
        REPORT.append(f"bare Nautobot host -> first verdict: {len(self.commands)} commands, {first_verdict:.1f} s "
                      + "(" + "; ".join(f"{cmd} {d:.1f} s" for cmd, d, _ in self.commands) + ")")
        REPORT.append(f"checks passed with the account: {sorted({e['NVD_CHECK'] for e in checks})}")

        # The account is an ordinary one, with exactly the view permission.
        out = self.manage_shell(
            "from nautobot.users.models import User, ObjectPermission; "
            f"u = User.objects.get(username='{ACCOUNT}'); "
            "p = ObjectPermission.objects.get(users=u); "
            "print(u.is_superuser, u.is_staff, p.actions, u.tokens.count(), u.tokens.first().write_enabled)")
        t.assertEqual(out.split("\n")[-2] if out.endswith("\n") else out.splitlines()[-1],
                      "False False ['view'] 1 False")

        # Idempotent: a second run changes nothing and keeps every file.
        before = c.run(["sh", "-c", "sha256sum /etc/nautobot-verifyd/*"]).stdout
        r = self.admin(["nautobot-verifyctl", "setup"])
        self.commands.pop()
        t.assertIn("Account nautobot-verifyd: as it was", r.stdout)
        t.assertIn("API token (read-only): as it was", r.stdout)
        t.assertIn("Kept /etc/nautobot-verifyd/nautobot-verifyd.conf", r.stdout)
        t.assertEqual(c.run(["sh", "-c", "sha256sum /etc/nautobot-verifyd/*"]).stdout, before)
        # --force: the difference first, then new secrets the account gets.
        c.run(["sed", "-i", "s/^url = /url =  /", CONF])
        r = self.admin(["nautobot-verifyctl", "setup", "--force"])
        self.commands.pop()
        t.assertRegex(r.stdout, r"(?m)^-url =  http")
        t.assertRegex(r.stdout, r"(?m)^\+url = http")
        t.assertIn("Account nautobot-verifyd: updated", r.stdout)
        out = self.manage_shell("from nautobot.users.models import User; "
                                f"print(User.objects.get(username='{ACCOUNT}').tokens.count())")
        t.assertEqual(out.split()[-1], "1", "the token setup made before is revoked")
        # Refused with a reason when Nautobot cannot be found.
        r = c.run(["nautobot-verifyctl", "setup", "-c", "/tmp/x/n.conf", "--url", "http://127.0.0.1:1",
                   "--server", "/nonexistent/nautobot-server"], check=False)
        t.assertEqual(r.returncode, 78, r.stdout + r.stderr)
        t.assertIn("is not an executable file", r.stderr)

    def upgrade(self, t):
        """The guide's upgrade steps: one verdict, a pass, from the packaged .path unit's run."""
        c, tb = self.c, self.tb
        since = now_us()
        host([os.path.join(tb["NVD_TB_VENV"], "bin", "pip"), "--disable-pip-version-check", "-q", "install",
              "--upgrade", f"{APP}=={NEW}"], timeout=600)
        host([ns.TESTBED, "manage", "--name", self.name, "--", "migrate", "--no-input"], timeout=900)
        host([ns.TESTBED, "manage", "--name", self.name, "--", "collectstatic", "--no-input"], timeout=900)
        c.run(["chown", "-R", "nautobot:nautobot", tb["NVD_TB_DIR"]], timeout=300)
        restarted = time.monotonic()
        c.systemctl("restart", *WEB_WORKER, timeout=300)

        def summaries():
            return [e for e in c.journal("-t", "nautobot-verifyd", f"_SYSTEMD_UNIT={CHECK}",
                                         f"--since=@{since // 1_000_000 - 1}")
                    if e.get("NVD_CHECK") == "summary" and int(e["__REALTIME_TIMESTAMP"]) >= since]
        c.wait_until(lambda: summaries(), 600, "a verdict from the .path unit's run", interval=1)
        TIMINGS["upgrade: last restart -> verdict (.path)"] = time.monotonic() - restarted
        time.sleep(3)
        got = [(e["NVD_VERSION"], e["NVD_RESULT"]) for e in summaries() if e.get("NVD_PACKAGE") == APP]
        log(c.run(["journalctl", "--no-pager", "-t", "nautobot-verifyd", "-o", "short",
                   f"--since=@{since // 1_000_000}"], check=False).stdout[-6000:])
        t.assertEqual(got, [(NEW, "pass")])
        t.assertTrue(all(e["NVD_RESULT"] == "pass" for e in summaries()))
        REPORT.append(f"upgrade {OLD} -> {NEW} with the guide's steps: verdicts from the .path run {got}")


def main():
    reason = why_not()
    if reason:
        print(f"SKIP: {reason}")
        return 77
    prog = unittest.main(argv=[sys.argv[0], *sys.argv[1:]], exit=False, verbosity=2)
    print("\nReport:")
    for line in REPORT:
        print(f"  {line}")
    print("Timings:")
    for what, secs in TIMINGS.items():
        print(f"  {what}: {secs:.1f} s")
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
