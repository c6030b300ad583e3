# SPDX-License-Identifier: LGPL-2.1-or-later
"""Started as root (an admin's sudo nautobot-verifyd --once), the daemon runs nautobot-server
as the owner of the Nautobot installation, never as root unless told so.

A copy of the test bed's virtualenv is given to a throwaway system account;
its bin/nautobot-server is a wrapper owned by that account that records who
runs it and then execs the real nautobot-server of the copy.
"""

import os
import shutil
import subprocess
import nvdtest

COMMANDS_ONLY = {("checks", "enable"): "system, migrations"}


class RunAsRoot(nvdtest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            nvdtest.skip("needs root: the daemon changes the account of its children only as root")
        super().setUpClass()
        nvdtest.system_account(cls)
        # Somewhere the account can reach (mkdtemp's 0700 directories it cannot).
        cls.base = nvdtest.reachable_dir(cls, "nvd-runas-")
        cls.venv = os.path.join(cls.base, "venv")
        subprocess.run([nvdtest.TESTBED, "venv-copy", cls.venv], check=True, capture_output=True, timeout=600)
        cls.record = os.path.join(cls.base, "record")
        server = os.path.join(cls.venv, "bin", "nautobot-server")
        os.rename(server, server + ".real")
        with open(server, "w") as f:
            f.write(f"#!/bin/sh\necho \"$(id -u) $(id -g) $(id -G)\" >> {cls.record}\n"
                    f"exec {server}.real \"$@\"\n")
        os.chmod(server, 0o755)
        open(cls.record, "w").close()
        subprocess.run(["chown", "-R", f"{cls.uid}:{cls.gid}", cls.venv, cls.record], check=True, timeout=120)
        os.chmod(cls.record, 0o666)  # any account the daemon picks leaves its mark
        cls.server = server
        # Started as root, the daemon becomes the account before it writes its state: the
        # state directories under cls.tmp must be reachable by it.
        os.chmod(cls.tmp, 0o755)
        # The probe where the account can read it, as the installed one in <datadir> is: the
        # checkout may sit below a 0700 directory (a clone into mktemp -d).
        cls.probe = os.path.join(cls.base, "nautobot-verifyd-probe.py")
        shutil.copyfile(nvdtest.PROBE, cls.probe)
        os.chmod(cls.probe, 0o644)

    def setUp(self):
        os.truncate(self.record, 0)

    def recorded(self):
        with open(self.record) as f:
            return [line.split() for line in f.read().splitlines()]

    def run_commands(self, name, entries=nvdtest.RUN_ENTRIES, **nautobot):
        extra = {**COMMANDS_ONLY, ("nautobot", "server"): self.server, ("nautobot", "probe"): self.probe}
        extra.update({("nautobot", k): v for k, v in nautobot.items()})
        # The default (user = root for the root-owned test bed) must not apply here.
        conf = self.config(name=name, extra=extra)
        with open(conf) as f:
            text = f.read()
        if "user" not in nautobot:
            text = text.replace("user = root\n", "")
        with open(conf, "w") as f:
            f.write(text)
        return nvdtest.Run(conf, expect_entries=entries)

    def test_children_run_as_the_owner_of_the_installation(self):
        r = self.run_commands("owner.conf")
        self.assertEqual(r.code, 0, r.dump())
        note = (f"ran as user {self.user} (uid {self.uid}) because nautobot-verifyd runs as root "
                f"(the owner of {self.server})")
        for check in ("system", "migrations"):
            self.assertResult(r, check, "pass")
            self.assertIn(note, r.findings(check), r.dump())
        # Root became the account before it touched the state: the account made the files.
        state = nvdtest.state_dir_for(os.path.join(self.tmp, "owner.conf"))
        for path in (state, os.path.join(state, "default"), os.path.join(state, "default", "nautobot.json")):
            st = os.lstat(path)
            self.assertEqual((st.st_uid, st.st_gid), (self.uid, self.gid), path)
        runs = self.recorded()
        self.assertGreaterEqual(len(runs), 1, runs)  # one per check, or one Django probe for both
        for uid, gid, *groups in runs:
            self.assertEqual((int(uid), int(gid)), (self.uid, self.gid))
            self.assertNotIn("0", groups)  # root's groups were dropped, not inherited
            self.assertEqual(groups, [str(self.gid)])

    def test_root_owned_server_is_refused(self):
        os.chown(self.server, 0, 0)
        try:
            r = self.run_commands("root-owned.conf", entries=0)
        finally:
            os.chown(self.server, self.uid, self.gid)
        # Refused before anything is touched: root cannot tell whom to become.
        self.assertEqual(r.code, 2, r.dump())
        self.assertIn(f"Not verified: nautobot-verifyd runs as root and '{self.server}' is owned by root", r.stderr)
        self.assertIn("set [nautobot] user=", r.stderr)
        self.assertEqual(self.recorded(), [], "nautobot-server ran although it was refused")

    def test_configured_user_wins_and_root_only_explicitly(self):
        r = self.run_commands("nobody.conf", user="nobody")
        self.assertTrue(self.recorded(), r.dump())
        self.assertEqual({int(x[0]) for x in self.recorded()}, {65534}, r.dump())
        self.assertIn(f"ran as user nobody (uid 65534) because nautobot-verifyd runs as root ([nautobot] user=nobody)",
                      r.findings("system"))
        os.truncate(self.record, 0)
        r = self.run_commands("root.conf", user="root")
        self.assertEqual(r.code, 0, r.dump())
        self.assertTrue(self.recorded(), r.dump())
        self.assertEqual({x[0] for x in self.recorded()}, {"0"})
        self.assertIn("ran as root: nautobot-verifyd runs as root and [nautobot] user=root says so", r.findings("system"))

    def test_unknown_user_is_refused(self):
        r = self.run_commands("unknown.conf", entries=0, user="nvd-no-such-user")
        self.assertEqual(r.code, 2, r.dump())
        self.assertIn("Not verified: [nautobot] user=nvd-no-such-user: no such user", r.stderr)
        self.assertEqual(self.recorded(), [])


if __name__ == "__main__":
    nvdtest.main()
