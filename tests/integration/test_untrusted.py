# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the server, the probe and the installed code say is untrusted input (issue 15).

The daemon may run as root (an admin's sudo nautobot-verifyd --once) while the
account Nautobot runs as owns the virtualenv, the app's code, STATIC_ROOT, and
so what the probe and the web server answer.

- A link planted in the app's installed static files, owned by that account,
  pointing at a directory only root may read: the static check does not
  follow it, and no name from behind it reaches the state file or the journal
  (which that account may read).
- [package] name= that would climb out of the state directory or holds ESC,
  app-label= that is a path: --check-config refuses them (exit 78) with
  file:line, the key and the reason.
- Bytes that are not UTF-8 in what nautobot-server prints: the state file is
  still JSON that Python reads, with U+FFFD where the bytes were.
"""

import json
import os
import subprocess

import nvdtest

SECRET = "secret-name"
SECRET_SIZE = 31337  # a size that appears nowhere else


class Untrusted(nvdtest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            nvdtest.skip("needs root: the leak is of what only root may read")
        super().setUpClass()
        nvdtest.system_account(cls)
        cls.base = nvdtest.reachable_dir(cls, "nvd-untrusted-")
        # What only root may read: a 0700 directory holding a file of a telling name and size.
        cls.secret = os.path.join(cls.base, "root-only")
        os.mkdir(cls.secret, 0o700)
        with open(os.path.join(cls.secret, SECRET), "wb") as f:
            f.write(b"\0" * SECRET_SIZE)
        os.mkdir(os.path.join(cls.secret, "private-dir"), 0o700)
        # The installation, owned by the account Nautobot runs as.
        cls.venv = os.path.join(cls.base, "venv")
        subprocess.run([nvdtest.TESTBED, "venv-copy", cls.venv], check=True, capture_output=True, timeout=600)
        cls.site = subprocess.run([os.path.join(cls.venv, "bin", "python"), "-c",
                                   "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  check=True, capture_output=True, text=True).stdout.strip()
        subprocess.run(["chown", "-R", f"{cls.uid}:{cls.gid}", cls.venv], check=True, timeout=120)
        cls.static = os.path.join(cls.site, "nautobot_contract_models", "static")

    def as_owner(self, *argv):
        """A command run as the account that owns the installation (what it can do, it does)."""
        subprocess.run(["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups", *argv],
                       check=True, capture_output=True, timeout=60)

    def state_dir(self, name):
        """A state directory the account may enter (as a service's StateDirectory=): a daemon that
        drops to it before touching the state reaches it, and root writes files it can read."""
        path = os.path.join(self.base, os.path.splitext(name)[0] + ".state")
        os.mkdir(path, 0o755)
        os.chown(path, self.uid, self.gid)
        return path

    def static_run(self, name):
        conf = self.config(name, {("checks", "enable"): "static",
                                  ("nautobot", "server"): os.path.join(self.venv, "bin", "nautobot-server"),
                                  ("nautobot", "site-packages"): self.site,
                                  ("watch", "state-directory"): self.state_dir(name)})
        with open(conf) as f:
            text = f.read().replace("user = root\n", "")  # the copy belongs to the account
        with open(conf, "w") as f:
            f.write(text)
        return conf, nvdtest.Run(conf)

    def assertNotLeaked(self, conf, run):
        state_dir = os.path.join(self.base, os.path.splitext(os.path.basename(conf))[0] + ".state")
        path = os.path.join(state_dir, "default", "nautobot-contract-models.json")
        self.assertTrue(os.path.exists(path), run.dump())
        with open(path, encoding="utf-8") as f:
            state = f.read()
        json.loads(state)
        journal = json.dumps(run.entries)
        for text, where in ((state, "the state file"), (journal, "the journal")):
            for leaked in (SECRET, "private-dir", str(SECRET_SIZE)):
                self.assertNotIn(leaked, text, f"{where} names what only root may read:\n{run.dump()}")

    def test_static_dir_replaced_by_a_link(self):
        # The account swaps the app's static/ for a link to the root-only directory.
        self.as_owner("mv", self.static, self.static + ".orig")
        try:
            self.as_owner("ln", "-s", self.secret, self.static)
            conf, r = self.static_run("static-link.conf")
        finally:
            os.unlink(self.static)
            self.as_owner("mv", self.static + ".orig", self.static)
        self.assertNotLeaked(conf, r)
        self.assertResult(r, "static", "error", "a symbolic link, not followed")

    def test_links_inside_static(self):
        # Links inside static/: to the directory, to the file, and one climbing out with "..".
        links = {os.path.join(self.static, "leak"): self.secret,
                 os.path.join(self.static, "leak-file.js"): os.path.join(self.secret, SECRET),
                 os.path.join(self.static, "up"): "../../../../../../../../.." + self.secret}
        for link, target in links.items():
            self.as_owner("ln", "-s", target, link)
        try:
            conf, r = self.static_run("static-inner-links.conf")
        finally:
            for link in links:
                os.unlink(link)
        self.assertNotLeaked(conf, r)
        self.assertResult(r, "static", "pass")
        self.assertTrue(any("3 symbolic link(s) in the installed static files were not followed" in f
                            for f in r.findings("static")), r.dump())

    def check_config(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(text)
        p = subprocess.run([nvdtest.DAEMON, "--check-config", "--config", path], capture_output=True, timeout=60)
        return path, p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")

    def test_check_config_refuses_names_that_are_paths(self):
        dist = "is not a Python distribution name"
        label = "is not a Django app label"
        cases = [
            ("dotdot.conf", b"[package]\nname = ../x\napp-label = x\n", 2, "[package] name=", "'../x' " + dist),
            ("slash.conf", b"# a/b would be a subdirectory\n[package]\nname = a/b\napp-label = a_b\n", 3,
             "[package] name=", "'a/b' " + dist),
            ("esc.conf", b"[package]\nname = nautobot\x1b[2Jcontracts\napp-label = x\n", 2, "[package] name=",
             "'nautobot\\x1b[2Jcontracts' " + dist),
            ("label.conf", b"[package]\nname = nautobot-contract-models\napp-label = ../../etc\n", 3,
             "[package] app-label=", "'../../etc' " + label),
            ("app-label.conf", b"[app nautobot-dns-models]\napp-label = a/b\n", 2,
             "[app nautobot-dns-models] app-label=", "'a/b' " + label),
        ]
        for name, text, line, key, reason in cases:
            with self.subTest(name):
                path, code, out, err = self.check_config(name, text)
                self.assertEqual(code, 78, f"{name}: exit {code}\n{out}\n{err}")
                self.assertIn(f"{path}:{line}: {key}: {reason}", err)
                self.assertNotIn("\x1b", err)  # nothing for the admin's terminal to act on

    def test_invalid_utf8_from_nautobot_server(self):
        # nautobot-server's "check" fails with bytes that are not UTF-8 in its message (Latin-1
        # "Verträge", a stray 0xFF 0xFE): the reason, findings and evidence hold them.
        real = self.tb["NVD_TB_SERVER"]
        wrapper = os.path.join(self.tmp, "nautobot-server")
        with open(wrapper, "w") as f:
            f.write("#!/bin/sh\n"
                    "if [ \"$1\" = check ]; then\n"
                    "  printf 'SystemCheckError: System check identified some issues:\\n\\nERRORS:\\n"
                    "nautobot_contract_models.Contract: (models.E001) Vertr\\344ge \\377\\376 broken\\n\\n"
                    "System check identified 1 issue (0 silenced).\\n' >&2\n"
                    "  exit 1\n"
                    "fi\n"
                    f"exec {real} \"$@\"\n")
        os.chmod(wrapper, 0o755)
        conf = self.config("utf8.conf", {("checks", "enable"): "system", ("checks", "django"): "command",
                                          ("nautobot", "server"): wrapper})
        r = nvdtest.Run(conf)
        self.assertEqual(r.code, 1, r.dump())
        path = os.path.join(nvdtest.state_dir_for(conf), "default", "nautobot-contract-models.json")
        with open(path, encoding="utf-8") as f:
            state = json.load(f)  # UnicodeDecodeError (or ValueError) when a byte went in raw
        system = next(c for c in state["report"]["checks"] if c["check"] == "system")
        self.assertEqual(system["result"], "fail", system)
        self.assertIn("(models.E001) Vertr\ufffdge \ufffd\ufffd broken", system["reason"])
        self.assertIn("Vertr\ufffdge \ufffd\ufffd broken", system["evidence"])
        self.assertIn("Vertr\ufffdge \ufffd\ufffd broken", " ".join(system["findings"]))
        # The journal has the same text, as UTF-8.
        self.assertIn("Vertr\ufffdge", r.check("system")["NVD_REASON"])


if __name__ == "__main__":
    nvdtest.main()
