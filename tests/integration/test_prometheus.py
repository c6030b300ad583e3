# SPDX-License-Identifier: LGPL-2.1-or-later
"""[report] prometheus-textfile=: the file node_exporter's textfile collector reads.

The real daemon runs once against the test bed and the file it writes is read
back with a real parser of the exposition format, prometheus_client's
(Debian's python3-prometheus-client, installed by tests/testbed/install-deps;
also `promtool check metrics` when promtool is installed). The values are
compared with what the same run wrote to the journal.
"""

import os
import shutil
import subprocess
import sys
import time

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    # Debian's package is importable by Debian's Python; meson may have found another python3.
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3", *sys.argv])
    raise RuntimeError("prometheus_client is missing: tests/testbed/install-deps installs python3-prometheus-client")

import nvdtest

PREFIX = "nautobot_verifyd_"
FAMILIES = {
    "verification_result": ("nautobot_instance", "package", "result"),
    "last_run_timestamp_seconds": ("nautobot_instance", "package"),
    "run_duration_seconds": ("nautobot_instance", "package"),
    "package_info": ("nautobot_instance", "package", "version"),
    "check_result": ("nautobot_instance", "package", "check", "result"),
    "check_duration_seconds": ("nautobot_instance", "package", "check"),
    "check_findings": ("nautobot_instance", "package", "check"),
}
CHECK_STATES = ("pass", "fail", "error", "skipped")


class Prometheus(nvdtest.TestCase):
    def prom_config(self, name, textfile, extra=None):
        conf = self.config(name, extra={("checks", "enable"): "versions", **(extra or {})})
        with open(conf, "a") as f:
            f.write(f"[report]\nprometheus-textfile = {textfile}\n")
        return conf

    def textfile(self, name):
        d = os.path.join(self.tmp, name)
        os.makedirs(d, exist_ok=True)
        return os.path.join(d, "nautobot-verifyd.prom")

    def parse(self, path):
        """The file as {family: [(labels, value)]}, with the format's own rules checked."""
        with open(path) as f:
            text = f.read()
        self.assertTrue(text.endswith("\n"), text[-200:])
        families = {}
        for fam in text_string_to_metric_families(text):
            self.assertNotIn(fam.name, families, "a family appears twice (its lines must be together)")
            self.assertEqual(fam.type, "gauge", fam.name)
            self.assertTrue(fam.documentation, f"{fam.name} has no HELP")
            families[fam.name] = [(s.labels, s.value) for s in fam.samples]
            for s in fam.samples:
                self.assertIsNone(s.timestamp, "node_exporter's textfile collector refuses timestamps")
        self.assertEqual(sorted(families), sorted(PREFIX + f for f in FAMILIES), text)
        for short, labels in FAMILIES.items():
            for sample_labels, _ in families[PREFIX + short]:
                self.assertEqual(sorted(sample_labels), sorted(labels), short)
        # Each HELP and TYPE line once per family, before its samples.
        for short in FAMILIES:
            self.assertEqual(text.count(f"# HELP {PREFIX}{short} "), 1, short)
            self.assertEqual(text.count(f"# TYPE {PREFIX}{short} gauge\n"), 1, short)
        if shutil.which("promtool"):
            p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True,
                               timeout=60)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return families

    @staticmethod
    def one(families, short, **labels):
        found = [v for lab, v in families[PREFIX + short] if all(lab.get(k) == w for k, w in labels.items())]
        if len(found) != 1:
            raise AssertionError(f"{short}{labels}: {len(found)} samples in {families[PREFIX + short]}")
        return found[0]

    def assertNoLeftovers(self, path):
        d = os.path.dirname(path)
        self.assertEqual(os.listdir(d), [os.path.basename(path)], "a temporary file was left behind")

    def test_pass_matches_the_journal(self):
        path = self.textfile("pass")
        conf = self.prom_config("pass.conf", path, {("checks", "enable"): "versions, jobs",
                                                    ("nautobot", "instance"): "prom-test"})
        t0 = time.time()
        run = nvdtest.Run(conf)
        t1 = time.time()
        self.assertEqual(run.code, 0, run.dump())
        st = os.stat(path)
        self.assertEqual(st.st_mode & 0o777, 0o644, "node_exporter runs as another user: the file must be readable")
        self.assertNoLeftovers(path)
        fam = self.parse(path)
        base = {"nautobot_instance": "prom-test", "package": "nautobot-contract-models"}

        for verdict in ("pass", "fail", "incomplete"):
            self.assertEqual(self.one(fam, "verification_result", result=verdict, **base), verdict == "pass")
        stamp = self.one(fam, "last_run_timestamp_seconds", **base)
        self.assertTrue(t0 <= stamp <= t1, (t0, stamp, t1))
        summary = run.check("summary")
        self.assertAlmostEqual(self.one(fam, "run_duration_seconds", **base),
                               int(summary["NVD_DURATION_USEC"]) / 1e6, places=6)
        self.assertEqual(self.one(fam, "package_info", version=run.check("versions")["NVD_VERSION"], **base), 1)

        # Checks turned off by [checks] enable= have no series; those that ran have one per state.
        checks = {lab["check"] for lab, _ in fam[PREFIX + "check_result"]}
        self.assertEqual(checks, {"versions", "jobs"})
        for check in ("versions", "jobs"):
            entry = run.check(check)
            for state in CHECK_STATES:
                self.assertEqual(self.one(fam, "check_result", check=check, result=state, **base),
                                 entry["NVD_RESULT"] == state, check)
            self.assertAlmostEqual(self.one(fam, "check_duration_seconds", check=check, **base),
                                   int(entry["NVD_DURATION_USEC"]) / 1e6, places=6)
            self.assertEqual(self.one(fam, "check_findings", check=check, **base), len(run.findings(check)), check)
        # The jobs check has findings on the test bed (new Jobs are disabled, the grouping).
        self.assertGreater(self.one(fam, "check_findings", check="jobs", **base), 0)

    def test_failure_replaces_the_file_and_labels_are_intact(self):
        path = self.textfile("fail")
        # A name with " and \ in it never reaches a label: the configuration refuses it.
        conf = self.prom_config("refused.conf", path, {("package", "name"): 'weird"pkg\\name'})
        p = subprocess.run([nvdtest.DAEMON, "--check-config", "-c", conf], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(p.returncode, 78, p.stdout + p.stderr)
        self.assertIn("[package] name=: 'weird\"pkg\\name' is not a Python distribution name", p.stderr)
        # An unusual name that is one (not installed here) comes back from the parser intact.
        weird = "Weird.Pkg_name-2"
        conf = self.prom_config("first.conf", path, {("package", "name"): weird})
        run = nvdtest.Run(conf)
        self.assertEqual(run.code, 0, run.dump())
        first = os.stat(path).st_ino
        fam = self.parse(path)
        self.assertEqual(self.one(fam, "package_info", package=weird), 1)
        self.assertEqual(self.one(fam, "package_info", package=weird, version="unknown"), 1)

        # Next run, another verdict: the file is replaced (a new inode: renamed over, never rewritten in place).
        conf = self.prom_config("second.conf", path, {("watch", "expect"): "nautobot >= 99"})
        run = nvdtest.Run(conf)
        self.assertEqual(run.code, 1, run.dump())
        self.assertNotEqual(os.stat(path).st_ino, first)
        self.assertNoLeftovers(path)
        fam = self.parse(path)
        base = {"nautobot_instance": "default", "package": "nautobot-contract-models"}
        self.assertEqual(self.one(fam, "verification_result", result="fail", **base), 1)
        self.assertEqual(self.one(fam, "verification_result", result="pass", **base), 0)
        self.assertEqual(self.one(fam, "check_result", check="versions", result="fail", **base), 1)
        self.assertFalse([lab for lab, _ in fam[PREFIX + "package_info"] if lab["package"] == weird],
                         "the previous run's series must be gone")

    def test_write_failure_is_reported_not_fatal(self):
        path = os.path.join(self.tmp, "no-such-directory", "nautobot-verifyd.prom")
        run = nvdtest.Run(self.prom_config("unwritable.conf", path))
        self.assertEqual(run.code, 0, run.dump())
        self.assertIn(f"Failed to write the Prometheus textfile '{path}': No such file or directory", run.stderr)
        self.assertEqual(run.check("summary")["NVD_RESULT"], "pass")
        self.assertFalse(os.path.exists(os.path.dirname(path)))

    def test_unset_writes_nothing(self):
        conf = self.config("unset.conf", extra={("checks", "enable"): "versions"})
        run = nvdtest.Run(conf)
        self.assertEqual(run.code, 0, run.dump())
        self.assertNotIn("Prometheus", run.stderr)
        p = subprocess.run([nvdtest.DAEMON, "--check-config", "-c", conf], capture_output=True, text=True, timeout=30)
        self.assertIn("\n[report]\nprometheus-textfile =  ; ", p.stdout)


if __name__ == "__main__":
    nvdtest.main()
