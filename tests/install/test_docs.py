# SPDX-License-Identifier: LGPL-2.1-or-later
"""The documentation as built: every manual page renders with man and with
groff -ww (all warnings) without a single warning; nautobot-verifyd.conf(5)
and the example configuration list exactly the keys that
"nautobot-verifyd --check-config" prints, so neither can drift from the key
table (lib/checks/config.c), the keys of an [app NAME] section included; and
the example, every key (and a commented-out [app NAME] header) uncommented,
is a configuration the daemon accepts; and each program's page documents
exactly the long options its --help lists.

Usage: test_docs.py --daemon NAUTOBOT-VERIFYD --conf-page SCD --example CONF
                   [--options PROGRAM SCD]... PAGE...
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

ARGS = None
ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "MANWIDTH": "80"}


def plain(text):
    """Rendered text without overstrike or SGR sequences (bold and underline)."""
    return re.sub(r"\x1b\[[0-9;]*m", "", re.sub(r".\x08", "", text))


def check_config(path):
    return subprocess.run([ARGS.daemon, "--check-config", "-c", path], capture_output=True, text=True,
                          timeout=30, env={"PATH": "/usr/bin:/bin"})


# A section header: [section], or [app NAME] (also commented out, as the example has it).
SECTION_RE = re.compile(r"^(?:\[([a-z]+)\]|#?\[(app) [^\]]+\])\s*$")


def keys_of_ini(lines, key_re):
    """{(section, key)} of INI-like lines, with key_re matching a key line (group 1: the key);
    the keys of every [app NAME] count as those of one section "app"."""
    keys, section = set(), None
    for line in lines:
        m = SECTION_RE.match(line)
        if m:
            section = m.group(1) or m.group(2)
            continue
        m = re.match(key_re, line)
        if m:
            keys.add((section, m.group(1)))
    return keys


def uncomment(line):
    """An example line with its key, or its [app NAME] header, uncommented."""
    return re.sub(r"^#(\[app [^\]]+\])", r"\1", re.sub(r"^#([a-z][a-z0-9-]*) =", r"\1 =", line))


class Docs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nvd-docs-")
        # Nothing but a probe= that exists: a binary of the build tree has no installed probe,
        # and --check-config refuses a missing one.
        probe = f"[nautobot]\nprobe = {os.path.abspath(__file__)}\n"
        empty = os.path.join(cls.tmp, "empty.conf")
        with open(empty, "w") as f:
            f.write(probe)
        p = check_config(empty)
        if p.returncode != 0:
            raise RuntimeError(f"--check-config of an empty file failed: {p.stderr}")
        cls.keys = keys_of_ini(p.stdout.splitlines(), r"^([a-z][a-z0-9-]*) = ")
        if len(cls.keys) < 40:
            raise RuntimeError(f"--check-config printed only {len(cls.keys)} keys:\n{p.stdout}")
        # An [app NAME] section is printed only when there is one: the keys it has.
        app = os.path.join(cls.tmp, "app.conf")
        with open(app, "w") as f:
            f.write(probe + "[app nautobot-example]\n")
        p = check_config(app)
        if p.returncode != 0:
            raise RuntimeError(f"--check-config of an [app NAME] section failed: {p.stderr}")
        app_keys = {k for k in keys_of_ini(p.stdout.splitlines(), r"^([a-z][a-z0-9-]*) = ") if k[0] == "app"}
        if len(app_keys) < 5:
            raise RuntimeError(f"--check-config printed only {len(app_keys)} [app NAME] keys:\n{p.stdout}")
        cls.keys |= app_keys

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_pages_render_without_warnings(self):
        have_man = shutil.which("man")
        if not shutil.which("groff"):
            self.skipTest("groff is missing (Debian package groff-base)")
        for page in ARGS.pages:
            with self.subTest(page=os.path.basename(page)):
                p = subprocess.run(["groff", "-ww", "-mandoc", "-Tutf8", page], capture_output=True, text=True,
                                   timeout=60, env=ENV)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual(p.stderr, "", "groff -ww warns")
                self.assertIn("\nNAME\n", plain(p.stdout))
                if not have_man:
                    continue
                p = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", page], capture_output=True, text=True,
                                   timeout=60, env=ENV)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual(p.stderr, "", "man --warnings warns")
                text = plain(p.stdout)
                self.assertIn("\nSYNOPSIS\n", text)
                self.assertIsNone(re.search(r"@[A-Z_]+@", text), "an @PLACEHOLDER@ was not filled in")

    # Each program's --help and the definition lists of its page name the same long options.
    def test_pages_list_every_option(self):
        option = re.compile(r"(?<![\w-])--[a-z][a-z-]*")
        for program, source in ARGS.options:
            with self.subTest(program=os.path.basename(program)):
                p = subprocess.run([program, "--help"], capture_output=True, text=True, timeout=30,
                                   env={"PATH": "/usr/bin:/bin"})
                self.assertEqual(p.returncode, 0, p.stderr)
                in_help = set(option.findall(p.stdout))
                with open(source) as f:
                    in_page = {o for line in f if line.startswith("*-") for o in option.findall(line)}
                self.assertGreater(len(in_help), 5, p.stdout)
                self.assertEqual(sorted(in_help - in_page), [], f"options of --help missing from {source}")
                self.assertEqual(sorted(in_page - in_help), [], f"{source} documents options --help lacks")

    def test_conf_page_lists_every_key(self):
        with open(ARGS.conf_page) as f:
            lines = [re.sub(r"^## ", "", line) for line in f.read().splitlines()]
        documented = keys_of_ini(lines, r"^\*([a-z][a-z0-9-]*)=\*\S*$")
        self.assertEqual(sorted(self.keys - documented), [], f"keys missing from {ARGS.conf_page}")
        self.assertEqual(sorted(documented - self.keys), [], f"{ARGS.conf_page} documents keys the daemon lacks")

    def test_example_lists_every_key_and_loads(self):
        with open(ARGS.example) as f:
            lines = f.read().splitlines()
        listed = keys_of_ini(lines, r"^#([a-z][a-z0-9-]*) =")
        self.assertEqual(sorted(self.keys - listed), [], f"keys missing from {ARGS.example}")
        self.assertEqual(sorted(listed - self.keys), [], f"{ARGS.example} lists keys the daemon lacks")
        # The build tree's binary has no installed probe: where the example names the installed
        # one, this build's source stands in (an installed binary finds its own).
        probe = f"\n[nautobot]\nprobe = {os.path.abspath(__file__)}\n"
        # As shipped (everything commented out) it is the defaults...
        shipped = os.path.join(self.tmp, "shipped.conf")
        with open(shipped, "w") as f:
            f.write("\n".join(lines) + probe)
        p = check_config(shipped)
        self.assertEqual(p.returncode, 0, p.stderr)
        # ...and with every key uncommented still a valid configuration.
        uncommented = os.path.join(self.tmp, "uncommented.conf")
        with open(uncommented, "w") as f:
            f.write("\n".join(uncomment(line) for line in lines) + probe)
        p = check_config(uncommented)
        self.assertEqual(p.returncode, 0, p.stderr)


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--daemon", required=True)
    parser.add_argument("--conf-page", required=True)
    parser.add_argument("--example", required=True)
    parser.add_argument("--options", nargs=2, action="append", default=[], metavar=("PROGRAM", "SCD"),
                        help="a program whose --help options its page must list")
    parser.add_argument("pages", nargs="+")
    ARGS = parser.parse_args()
    unittest.main(argv=[sys.argv[0]], verbosity=2)


if __name__ == "__main__":
    main()
