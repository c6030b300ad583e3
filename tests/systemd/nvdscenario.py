# SPDX-License-Identifier: LGPL-2.1-or-later
"""Where an admin starts: a Nautobot on the OLD app release, running as units.

A Scenario provisions a test-bed instance at nautobot-contract-models 2026.5.12
(its migrations applied, its static files collected, a private venv that the
test may upgrade with pip), boots a container (nvdcontainer.py) with the
daemon installed by "meson install --destdir", writes the daemon's
configuration and LoadCredential= secrets where the units expect them, and
starts Nautobot's own units. The tests then walk the upgrade guide's steps.

    with Scenario("up1", units=("nautobot.service", "nautobot-worker.service")) as s:
        s.pip("install", "--upgrade", "nautobot-contract-models==2026.5.17")
        s.manage("migrate")
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import nvdcontainer as nc  # noqa: E402
from nvdtest import free_port, read_instance_env  # noqa: E402

TESTBED = os.path.join(HERE, "..", "testbed", "nvd-testbed")
BUILD_IMAGE = os.path.join(HERE, "build-image")
BUILD_DIR = os.environ.get("NVD_BUILD_DIR", "")
OLD, NEW = "2026.5.12", "2026.5.17"
APP = "nautobot-contract-models"
ALL_NAUTOBOT_UNITS = ("nautobot.service", "nautobot-worker.service", "nautobot-scheduler.service")
WATCHER = "nautobot-verifyd.service"
CHECK = "nautobot-verifyd-check.service"
PATH_UNIT = "nautobot-verifyd-check.path"
TIMER = "nautobot-verifyd-check.timer"

MSG = {
    "summary-pass": "116f2dc905454e4a81122ce54029cac4",
    "summary-fail": "233cbdb98f464f7abc7a797f4f9abcf6",
    "unchanged": "94294bb44cd6480fa2f7fe3ab87cf14b",
    "upgrade-pending": "a51c6c888a33486595b03e2dfe2e37ab",
    "step-done": "63763207fc30477f8b34d55fb5d18be6",
    "upgrade-deadline": "d34389b5b5b84f76b4bb885a33a7ad2d",
}


def log(msg):
    print(msg, flush=True)


def host(argv, timeout, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({r.returncode}):\n{r.stderr[-3000:]}")
    return r.stdout


def now_us():
    return time.time_ns() // 1000


_image = None


def image():
    """The cached container image (built on first use, in minutes)."""
    global _image
    if _image is None:
        _image = host([BUILD_IMAGE], timeout=1800).strip().splitlines()[-1]
    return _image


PACKAGE_SECTION = """
[package]
name = nautobot-contract-models
app-label = nautobot_contract_models
"""


class Scenario:
    """An old-release Nautobot running as units in a container, the daemon installed beside it."""

    def __init__(self, name, units=ALL_NAUTOBOT_UNITS, config_extra="", timings=None, every_app=False):
        self.name = f"{name}{os.getpid()}"
        self.units = tuple(units)
        self.config_extra = config_extra
        # The scenarios follow the reference app ([package] name=); every_app: the zero
        # configuration, every app the server loads.
        self.every_app = every_app
        self.timings = timings if timings is not None else {}
        self.c = None
        self.tb = None
        self.tmp = tempfile.mkdtemp(prefix=f"nvd-{name}-")

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def timed(self, what, t0):
        self.timings[what] = time.monotonic() - t0

    def start(self):
        daemon = os.path.join(BUILD_DIR, "daemon", "verifyd", "nautobot-verifyd")
        if not os.access(daemon, os.X_OK):
            raise RuntimeError(f"{daemon} is not built (NVD_BUILD_DIR={BUILD_DIR!r})")
        t = time.monotonic()
        img = image()
        self.timed("image (cached or built)", t)
        destdir = os.path.join(self.tmp, "destdir")
        host(["meson", "install", "-C", BUILD_DIR, "--destdir", destdir, "--no-rebuild", "--quiet"], timeout=300)
        t = time.monotonic()
        env_path = host([TESTBED, "up", "--name", self.name, "--port", str(free_port()), "--app-version", OLD,
                         "--private-venv", "--no-start"], timeout=1800).strip().splitlines()[-1]
        self.timed("testbed up --no-start --private-venv (old release)", t)
        self.tb = tb = read_instance_env(env_path)
        units_dir = os.path.join(self.tmp, "units")
        os.mkdir(units_dir)
        host([TESTBED, "units", "--name", self.name, units_dir], timeout=60)

        self.c = c = nc.Container(img, binds_rw=[tb["NVD_TB_DIR"]], log_dir=self.tmp)
        c.start()
        self.timings["container boot"] = c.timings["boot"]
        c.install_tree(destdir, reload=False)
        for unit in self.units:  # only these exist here; the others are "not used"
            with open(os.path.join(units_dir, unit)) as f:
                c.write_file(f"/etc/systemd/system/{unit}", f.read())
        self.install_config()
        c.daemon_reload()
        t = time.monotonic()
        c.systemctl("start", *self.units, timeout=300)
        self.wait_nautobot_ready(t)
        self.timed("nautobot units started, web healthy, worker ready", t)

    def install_config(self):
        c, tb = self.c, self.tb
        # The configuration as an admin writes it; the secrets only as
        # LoadCredential= files (no password-file/token-file in the config).
        c.write_file("/etc/nautobot-verifyd/nautobot-verifyd.conf", f"""\
[nautobot]
server = {tb["NVD_TB_SERVER"]}
root = {tb["NVD_TB_ROOT"]}
environment-file = {tb["NVD_TB_ENV_FILE"]}
site-packages = {tb["NVD_TB_SITE_PACKAGES"]}
command-timeout = 180
url = {tb["NVD_TB_URL"]}
http-timeout = 30

[credentials]
username = {tb["NVD_TB_USER"]}
{"" if self.every_app else PACKAGE_SECTION}{self.config_extra}""")
        for key, src in (("web-password", "NVD_TB_PASSWORD_FILE"), ("api-token", "NVD_TB_TOKEN_FILE")):
            with open(tb[src]) as f:
                c.write_file(f"/etc/nautobot-verifyd/{key}", f.read(), mode=0o600)
        # Drop-ins, each needed only because of where the test bed lives:
        # PrivateTmp=yes hides /var/tmp, where the instance (venv, root,
        # nautobot.env) lies; the .path unit must name the real site-packages.
        bind = f"[Service]\nBindReadOnlyPaths={tb['NVD_TB_DIR']}\n"
        c.drop_in(WATCHER, "50-testbed", bind)
        c.drop_in(CHECK, "50-testbed", bind)
        c.drop_in(PATH_UNIT, "50-testbed", f"[Path]\nPathChanged=\nPathChanged={tb['NVD_TB_SITE_PACKAGES']}\n")
        # Test speed only: the watchdog fires after 5 s, not 60 s, and a
        # restart follows after 1 s, not 10 s.
        c.drop_in(WATCHER, "60-test-speed", "[Service]\nWatchdogSec=5s\nRestartSec=1s\n")

    def wait_nautobot_ready(self, since_monotonic):
        c = self.c
        since = now_us() - int((time.monotonic() - since_monotonic) * 1e6)

        def healthy():
            try:
                with urllib.request.urlopen(self.tb["NVD_TB_URL"] + "/health/?format=json", timeout=5) as r:
                    return r.status == 200
            except OSError:
                return False
        c.wait_until(healthy, 180, "Nautobot's /health/ to answer 200", interval=0.5)
        if "nautobot-worker.service" not in self.units:
            return

        def worker_ready():
            for unit in self.units:
                if c.show(unit, ["ActiveState"])["ActiveState"] != "active":
                    raise AssertionError(f"{unit} is not active:\n{c.unit_log(unit)}")
            return any(" ready." in e.get("MESSAGE", "") and int(e["__REALTIME_TIMESTAMP"]) >= since
                       for e in c.journal("-u", "nautobot-worker.service", "-n", "200"))
        c.wait_until(worker_ready, 180, "the Celery worker to report ready", interval=0.5)

    def stop(self):
        if self.c is not None:
            self.c.power_off()
            self.timings["container poweroff"] = self.c.timings.get("poweroff", 0)
            self.c = None
        subprocess.run([TESTBED, "down", "--name", self.name], capture_output=True, timeout=300)
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- what an admin does and reads ------------------------------------------
    def pip(self, *args):
        host([os.path.join(self.tb["NVD_TB_VENV"], "bin", "pip"), "--disable-pip-version-check", "-q", *args],
             timeout=600)

    def manage(self, *args):
        """nautobot-server ARGS with the instance's environment (same venv and database as the units)."""
        return host([TESTBED, "manage", "--name", self.name, "--", *args], timeout=900)

    def restart(self, *units):
        self.c.systemctl("restart", *units, timeout=300)

    def api(self, path):
        with open(self.tb["NVD_TB_TOKEN_FILE"]) as f:
            token = f.read().strip()
        req = urllib.request.Request(self.tb["NVD_TB_URL"] + path,
                                     headers={"Authorization": f"Token {token}", "Accept": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.load(r)

    def entries(self, unit, since):
        """nautobot-verifyd's journal entries written by UNIT since the µs timestamp."""
        found = self.c.journal("-t", "nautobot-verifyd", f"_SYSTEMD_UNIT={unit}", f"--since=@{since // 1_000_000 - 1}")
        return [e for e in found if int(e["__REALTIME_TIMESTAMP"]) >= since]

    def summaries(self, unit, since):
        return [e for e in self.entries(unit, since) if e.get("NVD_CHECK") == "summary"]

    def wait_summary(self, unit, since, timeout=300):
        return self.c.wait_until(lambda: (self.summaries(unit, since) or [None])[-1], timeout,
                                 f"a verification summary from {unit}", interval=0.5)

    def status_text(self, unit):
        return self.c.show(unit, ["StatusText"])["StatusText"]

    def dump(self, unit, since):
        return "\n".join(json.dumps({k: v for k, v in e.items() if k.startswith(("NVD_", "MESSAGE"))})
                         for e in self.entries(unit, since)) + "\n" + self.c.unit_log(unit)

    def state(self):
        """The state file the units keep, as JSON (None when there is none)."""
        r = self.c.run(["cat", f"/var/lib/nautobot-verifyd/default/{APP}.json"], check=False)
        return json.loads(r.stdout) if r.returncode == 0 else None
