# SPDX-License-Identifier: LGPL-2.1-or-later
"""The journal catalog: every MESSAGE_ID the daemon sends has an entry that
systemd's own catalog compiler accepts, and "journalctl -x" shows it under a
real entry written through the real journald.

Usage: test_catalog.py CATALOG REPORT_H  (root: it starts journald if needed
and uses a private mount namespace)
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

CATALOG, REPORT_H = sys.argv[1], sys.argv[2]


def ids_in_header():
    with open(REPORT_H) as f:
        text = f.read()
    return {re.sub(r"[\s,\\]", "", m.group(1)).lower()
            for m in re.finditer(r"#define\s+NVD_MESSAGE_\w+\s+(?:\\\s*)?SD_ID128_MAKE\(([^)]*)\)", text)}


class Catalog(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not shutil.which("journalctl"):
            print("SKIP: journalctl is not installed")
            sys.exit(77)
        cls.root = tempfile.mkdtemp(prefix="nvd-catalog-")
        os.makedirs(os.path.join(cls.root, "usr/lib/systemd/catalog"))
        shutil.copy(CATALOG, os.path.join(cls.root, "usr/lib/systemd/catalog"))
        p = subprocess.run(["journalctl", f"--root={cls.root}", "--update-catalog"], capture_output=True, text=True)
        cls.update_err = p.stderr
        cls.update_rc = p.returncode
        cls.listing = subprocess.run(["journalctl", f"--root={cls.root}", "--list-catalog"],
                                     capture_output=True, text=True).stdout

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root)

    def test_compiles_cleanly(self):
        self.assertEqual(self.update_rc, 0, self.update_err)
        self.assertEqual(self.update_err.strip(), "", "the catalog compiler complained")

    def test_every_message_id_has_an_entry(self):
        listed = {line.split()[0] for line in self.listing.splitlines() if line.strip()}
        want = ids_in_header()
        self.assertEqual(len(want), 16, "report.h should define 16 MESSAGE_IDs")
        self.assertEqual(want - listed, set(), "MESSAGE_IDs without a catalog entry")
        self.assertEqual(listed - want, set(), "catalog entries for no MESSAGE_ID")

    def test_journalctl_x_explains_a_real_entry(self):
        # A real entry through the real journald, then "journalctl -x" with this catalog.
        if subprocess.run([os.path.join(os.path.dirname(__file__), "..", "testbed", "ensure-journald")]).returncode:
            print("SKIP: no systemd-journald")
            sys.exit(77)
        marker = uuid.uuid4().hex
        subprocess.run(["logger", "--journald"], input=(
            "MESSAGE_ID=61fcf2114eb24d368a6b9ccb3f965055\nMESSAGE=catalog probe\nNVD_CHECK=database\n"
            f"NVD_REASON=probe {marker}\nNVD_PACKAGE=nautobot-contract-models\nNVD_VERSION=2026.5.17\n"
            "SYSLOG_IDENTIFIER=nvd-catalog-test\n"), text=True, check=True)
        # "journalctl -x" reads the compiled catalog only from the host's
        # /var/lib/systemd/catalog: show it ours in a private mount namespace,
        # leaving the host's catalog untouched.
        compiled = os.path.join(self.root, "var/lib/systemd/catalog")
        os.makedirs("/var/lib/systemd/catalog", exist_ok=True)
        script = (f"mount --bind {compiled} /var/lib/systemd/catalog && "
                  f"exec journalctl --no-pager -x -t nvd-catalog-test NVD_REASON='probe {marker}'")
        out = ""
        for _ in range(50):
            p = subprocess.run(["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script],
                               capture_output=True, text=True)
            if p.returncode != 0 and "Operation not permitted" in p.stderr:
                print(f"SKIP: cannot make a private mount namespace: {p.stderr.strip()}")
                sys.exit(77)
            out = p.stdout
            if marker in out:
                break
            time.sleep(0.1)
        self.assertIn(f"The post-upgrade check database found a problem: probe {marker}", out)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
