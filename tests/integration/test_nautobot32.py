# SPDX-License-Identifier: LGPL-2.1-or-later
"""The newest Nautobot release (3.2.x) beside the pinned one (3.1.x): issue 16 item 9.

3.2 titles its home page cards with an <h2> where 3.1 has a <strong>; a daemon
that read only the latter failed a healthy 3.2 server ("declares 6 panel(s) that
the home page does not show"). On real servers of the test bed:
  - a server on 3.2 with both apps passes every check;
  - Nautobot upgraded 3.1 -> 3.2 the right way (pip install, migrate,
    collectstatic, restart of the web server and the worker) passes, and the
    panels of the verification before the upgrade are still seen after it;
  - the same upgrade without migrate fails, naming the unapplied core migrations;
  - a page whose cards carry titles in markup this version does not know is an
    error (no verdict), never "panels missing".
The 3.2 venv and template database are built the first time (a few minutes),
cached afterwards; each upgrade copies the 3.1 venv and pip installs 3.2 into it.
"""

import http.server
import os
import re
import subprocess
import threading
import time

import nvdtest

RUN_DIR = os.environ.get("NVD_RUN_DIR", "/var/tmp/nvd-testbed")
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
APP_PANELS = ("Contracts", "Action Required", "Coverage Gaps", "Cost Summary", "Vendor Concentration",
              "Renewal Forecast")


def pin(name):
    """A version pinned in nvd-testbed (the test bed is where they are kept)."""
    with open(nvdtest.TESTBED) as f:
        m = re.search(rf"^{name}=(\S+)", f.read(), re.M)
    if not m:
        raise RuntimeError(f"nvd-testbed pins no {name}")
    return m.group(1)


PINNED = pin("NAUTOBOT_VERSION")
NEWEST = pin("NEW_NAUTOBOT_VERSION")


def testbed(*args, timeout=600):
    p = subprocess.run([nvdtest.TESTBED, *args], capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"nvd-testbed {' '.join(args)} failed ({p.returncode}): {p.stderr[-3000:]}")
    return p


def instance_env(name):
    return nvdtest.read_instance_env(os.path.join(RUN_DIR, name, "instance.env"))


class Stopwatch:
    """Prints how long each step takes: the upgrades' cost is CI time."""

    def __init__(self, what):
        self.what = what
        self.t0 = self.t = time.monotonic()

    def step(self, name):
        now = time.monotonic()
        print(f"{self.what}: {name} took {now - self.t:.1f} s", flush=True)
        self.t = now

    def done(self):
        print(f"{self.what}: {time.monotonic() - self.t0:.1f} s in all", flush=True)


class Nautobot32(nvdtest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The 3.2 venv, template database and static files: built once, cached (a venv copy,
        # pip install, migrate of the pinned template: ~2 min on 2 cores), so "up" is quick.
        t = time.monotonic()
        testbed("prepare", "--nautobot-version", NEWEST, timeout=3600)
        print(f"prepare --nautobot-version {NEWEST} took {time.monotonic() - t:.1f} s", flush=True)

    def conf(self, env, name, extra=None):
        return nvdtest.write_config(env, os.path.join(self.tmp, name), extra)

    def assertAllPass(self, r, version):
        self.assertEqual(r.code, 0, r.dump())
        self.assertEqual(r.check("summary")["NVD_RESULT"], "pass", r.dump())
        for check in nvdtest.HOST_CHECKS:
            self.assertEqual(r.check(check)["NVD_RESULT"], "pass", f"{check}\n{r.dump()}")
        self.assertIn(f"and Nautobot {version};", r.check("running")["NVD_REASON"])
        self.assertIn(f"all {len(APP_PANELS)} expected panels are on the home page ({len(APP_PANELS)} declared",
                      r.check("panels")["NVD_REASON"])
        evidence = r.check("panels")["NVD_EVIDENCE"]
        for title in APP_PANELS:
            self.assertIn(f"  {title} (id ", evidence)

    def upgrade(self, name, migrate):
        """Nautobot PINNED -> NEWEST in a copy of the venv with its own database, as an admin
        does it: pip install, migrate (unless not), collectstatic, restart both services."""
        w = Stopwatch(f"upgrade of {name}")
        env = instance_env(name)
        self.assertEqual(env["NVD_TB_PRIVATE_VENV"], "yes")
        subprocess.run([os.path.join(env["NVD_TB_VENV"], "bin", "pip"), "install", "-q",
                        "--disable-pip-version-check", f"nautobot=={NEWEST}"],
                       check=True, capture_output=True, timeout=900)
        w.step(f"pip install nautobot=={NEWEST}")
        if migrate:
            testbed("manage", "--name", name, "--", "migrate", "--no-input", timeout=1200)
            w.step("migrate")
        testbed("manage", "--name", name, "--", "collectstatic", "--no-input", timeout=600)
        w.step("collectstatic")
        testbed("restart", "--name", name)
        w.step("restart")
        w.done()
        return env

    def test_newest_release_passes_every_check(self):
        with nvdtest.extra_instance("nb32", "--nautobot-version", NEWEST):
            env = instance_env("nb32")
            self.assertEqual(env["NVD_TB_NAUTOBOT_VERSION"], NEWEST)
            r = nvdtest.Run(self.conf(env, "nb32.conf"))
        self.assertAllPass(r, NEWEST)
        self.assertIn(f"nautobot {NEWEST}", r.check("versions")["NVD_EVIDENCE"])

    def test_core_upgrade_done_right_passes(self):
        with nvdtest.extra_instance("nb32up", "--private-venv"):
            env = instance_env("nb32up")
            conf = self.conf(env, "upgrade.conf")
            before = nvdtest.Run(conf)
            self.assertAllPass(before, PINNED)
            self.upgrade("nb32up", migrate=True)
            after = nvdtest.Run(conf)
        self.assertAllPass(after, NEWEST)
        self.assertIn(("nautobot", "upgrade"),
                      [(c["NVD_PACKAGE"], c["NVD_CHANGE"]) for c in after.changes()], after.dump())
        # The panels seen on 3.1 (titles in <strong>) are the ones seen on 3.2 (in <h2>): none
        # added, gone or renamed against the verification before the upgrade, of the same release
        # of the app (where a panel gone would even be a failure).
        self.assertEqual([f for f in after.findings("panels") if "since the last passing verification" in f], [],
                         after.dump())

    def test_core_upgrade_without_migrate_fails(self):
        with nvdtest.extra_instance("nb32nomig", "--private-venv"):
            self.upgrade("nb32nomig", migrate=False)
            plan = testbed("manage", "--name", "nb32nomig", "--", "migrate", "--plan", timeout=600).stdout
            unapplied = re.findall(r"^ *(\w+\.\d{4}\w*)$", plan, re.M)
            r = nvdtest.Run(self.conf(instance_env("nb32nomig"), "nomigrate.conf"))
        self.assertTrue(unapplied, plan)
        self.assertEqual(r.code, 1, r.dump())
        self.assertEqual(r.check("summary")["NVD_RESULT"], "fail", r.dump())
        reason = self.assertResult(r, "migrations", "fail",
                                   f"{len(unapplied)} migration(s) are not applied")["NVD_REASON"]
        for migration in unapplied:
            self.assertIn(migration, reason)
        # They are Nautobot's own: the apps' releases did not change.
        self.assertFalse([m for m in unapplied if m.startswith(("nautobot_contract_models.", "nautobot_dns_models."))],
                         unapplied)
        # Whatever the home page does on such a server (3.2.7 answers 500), it is no pass.
        self.assertEqual(r.check("panels")["NVD_RESULT"], "fail", r.dump())

    def test_titles_in_unknown_markup_are_no_verdict(self):
        # A release that titles its cards otherwise: the real 3.2 page with the <h2> made a
        # <span>, served with a login form like Nautobot's; the declared panels come from the
        # real 3.2 server's code (the probe).
        with open(os.path.join(FIXTURES, "home-3.2.html")) as f:
            home = re.sub(r"<h2 ([^>]*)>(.*?)</h2>", r'<span data-nb-title \1>\2</span>', f.read())
        with open(os.path.join(FIXTURES, "login.html")) as f:
            login = f.read()
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), fake_nautobot(login, home))
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            # Only the probe runs on the real instance: provisioned, not started.
            with nvdtest.extra_instance("nb32markup", "--nautobot-version", NEWEST, "--no-start"):
                env = instance_env("nb32markup")
                r = nvdtest.Run(self.conf(env, "markup.conf", {
                    ("nautobot", "url"): f"http://127.0.0.1:{server.server_address[1]}",
                    ("checks", "enable"): "panels"}))
        finally:
            server.shutdown()
            server.server_close()
        self.assertEqual(r.code, 2, r.dump())
        self.assertResult(r, "panels", "error", "the home page has 19 cards but no title could be read: its markup "
                                                "is not one this version knows")
        self.assertNotIn("does not show", r.check("panels")["NVD_REASON"])


def fake_nautobot(login, home):
    """Nautobot's login dance (CSRF cookie, form, session cookie) in front of a saved page."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def send_page(self, body, cookie=None):
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            if cookie:
                self.send_header("Set-Cookie", cookie)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path.startswith("/login/"):
                self.send_page(login, "csrftoken=nvdtest; Path=/")
            elif self.path == "/" and "sessionid=nvdtest" in self.headers.get("Cookie", ""):
                self.send_page(home)
            else:
                self.send_response(302)
                self.send_header("Location", "/login/?next=/")
                self.send_header("Content-Length", "0")
                self.end_headers()

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(302)
            self.send_header("Location", "/")
            self.send_header("Set-Cookie", "sessionid=nvdtest; Path=/; HttpOnly")
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler


if __name__ == "__main__":
    nvdtest.main()
