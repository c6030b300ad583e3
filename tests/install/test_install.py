# SPDX-License-Identifier: LGPL-2.1-or-later
"""The installed layout: "meson install --destdir" into a fresh folder puts
exactly the files of files.txt in place (the directories this build chose
filled in), with sane modes; each unit's ExecStart= names an installed
binary; and the installed bash completion completes nautobot-verifyctl's
commands and options under the real bash-completion framework.

Usage: test_install.py --meson MESON --build-dir DIR --files FIXTURE NAME=DIR...
"""

import argparse
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

ARGS = None
BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"


def expected_files(fixture, dirs):
    files = set()
    with open(fixture) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            for name, value in dirs.items():
                line = line.replace(f"@{name}@", value)
            if re.search(r"@[a-z]+@", line):
                raise ValueError(f"{fixture}: unknown directory in {line!r}")
            files.add(os.path.normpath(line))
    return files


class Install(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.destdir = tempfile.mkdtemp(prefix="nvd-install-")
        p = subprocess.run([ARGS.meson, "install", "-C", ARGS.build_dir, "--destdir", cls.destdir, "--no-rebuild",
                            "--quiet"], capture_output=True, text=True, timeout=300)
        if p.returncode != 0:
            raise RuntimeError(f"meson install failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
        cls.installed = {}
        for root, dirs, files in os.walk(cls.destdir):
            for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
                path = os.path.join(root, name)
                cls.installed["/" + os.path.relpath(path, cls.destdir)] = os.lstat(path)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.destdir)

    def test_exact_file_list(self):
        want = expected_files(ARGS.files, ARGS.dirs)
        got = set(self.installed)
        self.assertEqual(sorted(got - want), [], f"installed but not in {ARGS.files}")
        self.assertEqual(sorted(want - got), [], f"in {ARGS.files} but not installed")

    def test_modes(self):
        bindir = ARGS.dirs["bindir"]
        for path, st in self.installed.items():
            self.assertTrue(stat.S_ISREG(st.st_mode), f"{path} is not a regular file")
            self.assertFalse(st.st_mode & 0o022, f"{path} is writable by group or others")
            if os.path.dirname(path) == bindir:
                self.assertEqual(st.st_mode & 0o755, 0o755, f"{path} is not executable")
            else:
                self.assertFalse(st.st_mode & 0o111, f"{path} is data but executable")
                self.assertTrue(st.st_mode & 0o004, f"{path} is not readable by all")

    def test_units_start_installed_binaries(self):
        unitdir = ARGS.dirs["systemdsystemunitdir"]
        units = [p for p in self.installed if os.path.dirname(p) == unitdir and p.endswith(".service")]
        self.assertTrue(units)
        for unit in units:
            with open(self.destdir + unit) as f:
                for line in f:
                    m = re.match(r"Exec(Start|Reload)=[-@:+!]*(\S+)", line)
                    if m and m.group(2).startswith("/") and "nautobot-verifyd" in m.group(2):
                        self.assertIn(m.group(2), self.installed, f"{unit}: {line.strip()}")

    def complete(self, line):
        """What the installed completion offers at the end of 'line' (bash-completion's own framework)."""
        completion = self.destdir + ARGS.dirs["bashcompletiondir"] + "/nautobot-verifyctl"
        script = f"""
source {BASH_COMPLETION}
source {completion}
COMP_LINE=$1
COMP_POINT=${{#COMP_LINE}}
read -ra COMP_WORDS <<<"$COMP_LINE"
[[ $COMP_LINE == *' ' ]] && COMP_WORDS+=('')
COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1))
_nautobot_verifyctl nautobot-verifyctl "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
        p = subprocess.run(["bash", "-c", script, "bash", line], capture_output=True, text=True, timeout=30,
                           env={"PATH": "/usr/bin:/bin", "HOME": self.destdir})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr, "")
        return sorted(w for w in p.stdout.split("\n") if w)

    def test_bash_completion(self):
        if not os.path.exists(BASH_COMPLETION):
            self.skipTest(f"{BASH_COMPLETION} is missing (Debian package bash-completion)")
        self.assertEqual(self.complete("nautobot-verifyctl "), ["diff", "history", "rollback", "setup", "show", "status", "verify"])
        self.assertEqual(self.complete("nautobot-verifyctl s"), ["setup", "show", "status"])
        self.assertEqual(self.complete("nautobot-verifyctl --instance x h"), ["history"])
        self.assertIn("--nagios", self.complete("nautobot-verifyctl status --"))
        self.assertNotIn("--nagios", self.complete("nautobot-verifyctl show --"))
        self.assertIn("--evidence", self.complete("nautobot-verifyctl show --"))
        self.assertEqual(self.complete("nautobot-verifyctl history --since t"), ["today"])
        self.assertIn("--directory", self.complete("nautobot-verifyctl --"))
        self.assertIn("--state-directory", self.complete("nautobot-verifyctl status --"))
        # An option's argument is not the command: "-n 5" leaves history the command.
        self.assertIn("--since", self.complete("nautobot-verifyctl history -n 5 --s"))
        self.assertEqual(self.complete("nautobot-verifyctl -D /tmp st"), ["status"])
        self.assertEqual(self.complete("nautobot-verifyctl verify --w"), ["--wait"])
        self.assertEqual(self.complete("nautobot-verifyctl verify --j"), ["--json"])
        # "--timeout 5min" is an option and its argument, not the command's argument.
        self.assertIn("--daemon", self.complete("nautobot-verifyctl verify --wait --timeout 5min --"))
        self.assertIn("15min", self.complete("nautobot-verifyctl verify --wait --timeout "))


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--meson", required=True)
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--files", required=True)
    parser.add_argument("dirs", nargs="+", help="NAME=DIR")
    ARGS, rest = parser.parse_known_args()
    ARGS.dirs = dict(d.split("=", 1) for d in ARGS.dirs)
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)


if __name__ == "__main__":
    main()
