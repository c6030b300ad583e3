# SPDX-License-Identifier: LGPL-2.1-or-later
"""The installed program, configured as an admin configures it (issue 16, item 6).

"meson install" into a prefix (so the binaries find their installed probe and
profiles), a Nautobot whose virtualenv belongs to its own service account (as
Nautobot's install guide lays out /opt/nautobot), and a configuration holding
only what an admin writes: where nautobot-server and the web UI are, the
environment Nautobot runs with, the credentials. No [package] name=: every app
the server loads. Run as root, the way the README tells admins to run it
(sudo nautobot-verifyd --once), it becomes the service account and verifies
both real apps of the test bed.
"""

import json
import os
import shutil
import subprocess
import nvdtest

SOURCE = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEFAULT_STATE = "/var/lib/nautobot-verifyd"


class Installed(nvdtest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            nvdtest.skip("needs root: it installs for and runs as an admin (sudo), against a service account")
        super().setUpClass()
        cls.base = nvdtest.reachable_dir(cls, "nvd-installed-")
        build, cls.prefix = os.path.join(cls.base, "build"), os.path.join(cls.base, "prefix")
        for argv in (["meson", "setup", build, SOURCE, f"--prefix={cls.prefix}", "-Dbuildtype=debugoptimized"],
                     ["ninja", "-C", build],
                     ["meson", "install", "-C", build, "--quiet"]):
            p = subprocess.run(argv, capture_output=True, text=True, timeout=600)
            if p.returncode != 0:
                raise RuntimeError(f"{' '.join(argv)} failed:\n{p.stdout}\n{p.stderr}")
        cls.daemon = os.path.join(cls.prefix, "bin", "nautobot-verifyd")
        cls.ctl = os.path.join(cls.prefix, "bin", "nautobot-verifyctl")
        # Nautobot's own account owns its virtualenv.
        nvdtest.system_account(cls)
        cls.venv = os.path.join(cls.base, "venv")
        subprocess.run([nvdtest.TESTBED, "venv-copy", cls.venv], check=True, capture_output=True, timeout=600)
        subprocess.run(["chown", "-R", f"{cls.uid}:{cls.gid}", cls.venv], check=True, timeout=120)
        # The service's state directory: the default one, unless this machine has one already
        # (then a folder of the test's stands in, named in the configuration).
        cls.state = DEFAULT_STATE
        cls.state_key = ""
        if os.path.exists(DEFAULT_STATE):
            cls.state = os.path.join(cls.base, "state")
            cls.state_key = f"[watch]\nstate-directory = {cls.state}\n"
            print(f"note: {DEFAULT_STATE} exists on this machine; the test uses {cls.state}")
        else:
            cls.addClassCleanup(shutil.rmtree, DEFAULT_STATE, ignore_errors=True)

    def admin_config(self):
        etc = os.path.join(self.base, "etc")
        os.makedirs(etc, exist_ok=True)
        path = os.path.join(etc, "nautobot-verifyd.conf")
        with open(path, "w") as f:
            f.write(f"""# What an admin writes: where Nautobot is, how it runs, the credentials.
[nautobot]
server = {self.venv}/bin/nautobot-server
root = {self.tb["NVD_TB_ROOT"]}
environment-file = {self.tb["NVD_TB_ENV_FILE"]}
url = {self.tb["NVD_TB_URL"]}

[credentials]
username = {self.tb["NVD_TB_USER"]}
password-file = {self.tb["NVD_TB_PASSWORD_FILE"]}
token-file = {self.tb["NVD_TB_TOKEN_FILE"]}
{self.state_key}""")
        return path

    def test_installed_daemon_zero_configuration_as_root(self):
        conf = self.admin_config()
        with open(conf) as f:
            text = f.read()
        for word in ("probe", "profiles", "[package]", "\nuser =", SOURCE):
            self.assertNotIn(word, text)
        p = subprocess.run([self.daemon, "--check-config", "-c", conf], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(f"probe = {self.prefix}/share/nautobot-verifyd/nautobot-verifyd-probe.py", p.stdout)

        saved, nvdtest.DAEMON = nvdtest.DAEMON, self.daemon
        try:
            r = nvdtest.Run(conf, expect_entries=2 * nvdtest.RUN_ENTRIES)
        finally:
            nvdtest.DAEMON = saved
        self.assertEqual(r.code, 0, r.dump())
        verdicts = {e["NVD_PACKAGE"]: e["NVD_RESULT"] for e in r.entries if e.get("NVD_CHECK") == "summary"}
        self.assertEqual(verdicts, {"nautobot-contract-models": "pass", self.tb["NVD_TB_APP2_PACKAGE"]: "pass"},
                         r.dump())
        # It became the account before it touched anything: its journal entries, its state files.
        self.assertEqual({e["_UID"] for e in r.entries}, {str(self.uid)}, r.dump())
        note = (f"ran as user {self.user} (uid {self.uid}) because nautobot-verifyd runs as root "
                f"(the owner of {self.venv}/bin/nautobot-server)")
        system = [e for e in r.entries if e.get("NVD_CHECK") == "system"]
        for e in system:
            findings = e.get("NVD_FINDING", [])
            self.assertIn(note, findings if isinstance(findings, list) else [findings])
        for name in ("", "default", "default/nautobot-contract-models.json", "default/nautobot.json"):
            st = os.lstat(os.path.join(self.state, name))
            self.assertEqual((st.st_uid, st.st_gid), (self.uid, self.gid), name)
        with open(os.path.join(self.state, "default", "nautobot-contract-models.json")) as f:
            self.assertEqual(json.load(f)["verdict"], "pass")
        # The installed nautobot-verifyctl, as root, reads it back.
        st = subprocess.run([self.ctl, "-c", conf, "status"], capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "COLUMNS": "200"})
        self.assertEqual(st.returncode, 0, st.stdout + st.stderr)
        self.assertIn("default: 2 apps verified at", st.stdout)


if __name__ == "__main__":
    nvdtest.main()
