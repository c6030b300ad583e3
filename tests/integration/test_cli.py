# SPDX-License-Identifier: LGPL-2.1-or-later
"""The command line: --check-config, bad configuration, usage errors."""

import os
import subprocess
import nvdtest


class Cli(nvdtest.TestCase):
    def run_daemon(self, *args):
        return subprocess.run([nvdtest.DAEMON, *args], capture_output=True, text=True, timeout=30)

    def test_check_config_prints_effective_config(self):
        conf = self.config()
        p = self.run_daemon("--check-config", "-c", conf)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(f"url = {self.tb['NVD_TB_URL']} ; base URL", p.stdout)
        self.assertIn("job-module = nautobot_contract_models.jobs ; ", p.stdout)
        self.assertIn("command-timeout = 180s ; ", p.stdout)
        # Which app profile is used, from the source tree's profiles (nvdtest.PROFILES).
        self.assertIn(f"; profile of nautobot-contract-models: {nvdtest.PROFILES}/nautobot-contract-models.conf\n",
                      p.stdout)
        with open(self.tb["NVD_TB_PASSWORD_FILE"]) as f:
            self.assertNotIn(f.read().strip(), p.stdout)

    def test_bad_config_names_file_and_line(self):
        conf = os.path.join(self.tmp, "bad.conf")
        with open(conf, "w") as f:
            f.write("[nautobot]\nurl = http://127.0.0.1:1\n[credentials]\ntoken = abc\n")
        p = self.run_daemon("--once", "-c", conf)
        self.assertEqual(p.returncode, 78)
        self.assertIn(f"{conf}:4: [credentials] token=: secrets are not accepted", p.stderr)
        self.assertNotIn("abc", p.stderr.replace(conf, ""))

    def test_usage(self):
        self.assertEqual(self.run_daemon().returncode, 64)
        self.assertEqual(self.run_daemon("--bogus").returncode, 64)
        self.assertEqual(self.run_daemon("--once", "extra").returncode, 64)
        p = self.run_daemon("--version")
        self.assertEqual(p.returncode, 0)
        self.assertTrue(p.stdout.startswith("nautobot-verifyd "))


if __name__ == "__main__":
    nvdtest.main()
