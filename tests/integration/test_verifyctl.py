# SPDX-License-Identifier: LGPL-2.1-or-later
"""nautobot-verifyctl against real runs: the real daemon verifies the real test
bed twice (a pass, then a failure: an expected Job that does not exist), and
nautobot-verifyctl reads back the state files it left and the real journal.

- status: exit code, the terminal text, --json against its schema
  (tests/fixtures/verifyctl.schema.json), --nagios against the Monitoring
  Plugins guidelines (status word, one line, perfdata syntax, exit 0-3); the
  installed release differing from the verified one (WARNING), no state
  (UNKNOWN), a corrupt state file (named, no crash).
- show --last and show RUN-ID (a prefix too): every check, its result, reason
  and findings as the journal has them; --evidence; an unknown run id.
- history: both runs, newest first; filters.
- diff RUN1 RUN2: jobs pass -> FAIL; findings and evidence lines (the Jobs seen) added
  and removed; runs sent to journald by hand for what a healthy test bed does not give
  (findings that come and go, no summary, too many findings, bytes that are not text).
- Colour only on a terminal (a real pty), never with NO_COLOR.
- verify without systemd: the daemon runs in this process (--once), its table
  and journal entries, its exit code passed through; the command line's errors.
  verify --json: the daemon as a child, its table on stderr, one document on
  stdout (against the schema) with its run read back from the journal by _PID.
"""

import json
import os
import pty
import re
import select
import shutil
import socket
import struct
import subprocess
import tempfile
import time

import nvdtest

CTL = os.path.join(nvdtest.BUILD_DIR, "daemon", "verifyctl", "nautobot-verifyctl")
SCHEMA = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures",
                                       "verifyctl.schema.json"))
FAST = {("checks", "enable"): "versions, jobs, panels"}
APP = "nautobot-contract-models"

# Monitoring Plugins guidelines: "SERVICE STATUS - text | 'label'=value[UOM];[warn];[crit];[min];[max] ...",
# UOM one of s ms us % B KB MB TB c (or none); labels quoted when they hold spaces, never ' or =.
NUMBER = r"-?[0-9]+(?:\.[0-9]+)?"
RANGE = r"@?(?:~|-?[0-9.]+)?:?(?:-?[0-9.]+)?"
PERF = rf"(?:'[^'=]+'|[^ '=]+)={NUMBER}(?:s|ms|us|%|B|KB|MB|TB|c)?(?:;{RANGE}){{0,2}}(?:;(?:{NUMBER})?){{0,2}}"
NAGIOS = re.compile(rf"^NAUTOBOT-VERIFYD (OK|WARNING|CRITICAL|UNKNOWN) - [^|\n]+?(?: \| {PERF}(?: {PERF})*)?\n$")
NAGIOS_CODES = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}


def validator():
    """jsonschema's validator when installed (Debian: python3-jsonschema), else a small one."""
    with open(SCHEMA) as f:
        schema = json.load(f)
    try:
        import jsonschema
    except ImportError:
        return lambda doc: mini_validate(schema, schema, doc, "$")
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    v = cls(schema)
    return v.validate


def mini_validate(root, schema, doc, where):
    """The subset of JSON Schema the fixture uses: type, const, enum, required, properties,
    additionalProperties, items, $ref, oneOf, allOf, minimum, pattern."""
    if "$ref" in schema:
        node = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        mini_validate(root, node, doc, where)
    types = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}
    if "type" in schema:
        allowed = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        ok = any((t == "integer" and isinstance(doc, int) and not isinstance(doc, bool)) or
                 (t != "integer" and isinstance(doc, types[t])) for t in allowed)
        if not ok:
            raise AssertionError(f"{where}: {doc!r} is not of type {allowed}")
    if "const" in schema and doc != schema["const"]:
        raise AssertionError(f"{where}: {doc!r} is not {schema['const']!r}")
    if "enum" in schema and doc not in schema["enum"]:
        raise AssertionError(f"{where}: {doc!r} is not one of {schema['enum']}")
    if "minimum" in schema and isinstance(doc, int) and doc < schema["minimum"]:
        raise AssertionError(f"{where}: {doc} < {schema['minimum']}")
    if "pattern" in schema and isinstance(doc, str) and not re.search(schema["pattern"], doc):
        raise AssertionError(f"{where}: {doc!r} does not match {schema['pattern']}")
    for sub in schema.get("allOf", []):
        mini_validate(root, sub, doc, where)
    if "oneOf" in schema:
        passed = 0
        for sub in schema["oneOf"]:
            try:
                mini_validate(root, sub, doc, where)
                passed += 1
            except AssertionError:
                pass
        if passed != 1:
            raise AssertionError(f"{where}: matches {passed} of oneOf, not exactly one")
    if isinstance(doc, dict):
        for key in schema.get("required", []):
            if key not in doc:
                raise AssertionError(f"{where}: '{key}' is missing")
        props = schema.get("properties", {})
        for key, value in doc.items():
            if key in props:
                mini_validate(root, props[key], value, f"{where}.{key}")
            elif schema.get("additionalProperties") is False:
                raise AssertionError(f"{where}: '{key}' is not allowed")
    if isinstance(doc, list) and "items" in schema:
        for i, item in enumerate(doc):
            mini_validate(root, schema["items"], item, f"{where}[{i}]")


def ctl(*args, env=None, timeout=60):
    run_env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    run_env.update(env or {})
    return subprocess.run([CTL, *args], capture_output=True, text=True, env=run_env, timeout=timeout)


def on_pty(args, env):
    """Runs nautobot-verifyctl with a pseudo-terminal as stdout; returns (exit code, output)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(CTL, [CTL, *args], env)
    out = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if not ready:
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        out += data
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode()


def systemd_runs_here():
    return os.path.isdir("/run/systemd/system")


class Verifyctl(nvdtest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not os.access(CTL, os.X_OK):
            raise RuntimeError(f"{CTL} is not built")
        cls.validate = staticmethod(validator())
        # An instance name of its own: the journal is shared with every other test.
        cls.instance = f"ctl-{os.getpid()}"
        extra = {**FAST, ("nautobot", "instance"): cls.instance}
        cls.conf = nvdtest.write_config(cls.tb, os.path.join(cls.tmp, "ctl.conf"), extra)
        cls.passing = nvdtest.Run(cls.conf)
        assert cls.passing.code == 0, cls.passing.dump()
        # The same configuration (same state), now expecting a Job no code defines.
        nvdtest.write_config(cls.tb, cls.conf, {**extra, ("package", "jobs"): "NoSuchJob"})
        cls.failing = nvdtest.Run(cls.conf)
        assert cls.failing.code == 1, cls.failing.dump()
        cls.run1 = cls.passing.check("summary")["NVD_RUN_ID"]
        cls.run2 = cls.failing.check("summary")["NVD_RUN_ID"]
        cls.state = nvdtest.state_dir_for(cls.conf)

    def json_of(self, p):
        doc = json.loads(p.stdout)
        self.validate(doc)
        self.assertEqual(doc["schema"], "nautobot-verifyctl/1")
        return doc

    def state_copy(self, name):
        """A copy of the runs' state directory to break things in."""
        dest = os.path.join(self.tmp, name)
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(self.state, dest)
        return dest

    # ---- status ----

    def test_status(self):
        p = ctl("-c", self.conf, "status")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        out = p.stdout
        self.assertNotIn("\033", out, "colour without a terminal")
        self.assertIn(f"{self.instance}: {APP} {self.tb['NVD_TB_APP_VERSION']} FAILED (jobs)", out)
        row = next(line for line in out.splitlines() if line.strip().startswith(APP))
        self.assertEqual(row.split()[1:4], [self.tb["NVD_TB_APP_VERSION"]] * 2 + ["FAIL"], row)
        self.assertRegex(out, r"\n  nautobot +3\.\d+\.\d+ +3\.\d+\.\d+ +FAIL")
        self.assertIn("jobs FAIL: 1 of 8 expected Jobs are not usable: missing: NoSuchJob", out)
        self.assertIn(f"show --last --instance {self.instance}", out)
        if not systemd_runs_here():
            self.assertIn("systemd: not running here", out)
        self.assertEqual(p.stderr, "")

    def test_status_json(self):
        p = ctl("-c", self.conf, "status", "--json", "--instance", self.instance)
        self.assertEqual(p.returncode, 1, p.stderr)
        doc = self.json_of(p)
        self.assertEqual((doc["verdict"], doc["exit_status"]), ("fail", 1))
        self.assertEqual(doc["state_directory"], self.state)
        self.assertEqual(doc["systemd"]["running"], systemd_runs_here())
        [inst] = doc["instances"]
        self.assertEqual(inst["instance"], self.instance)
        self.assertEqual(inst["site_packages"], self.tb["NVD_TB_SITE_PACKAGES"])
        pkgs = {p["package"]: p for p in inst["packages"]}
        self.assertEqual(set(pkgs), {APP, "nautobot"})
        app = pkgs[APP]
        self.assertTrue(app["app"])
        self.assertEqual(app["installed_version"], self.tb["NVD_TB_APP_VERSION"])
        self.assertEqual(app["verified_version"], self.tb["NVD_TB_APP_VERSION"])
        self.assertEqual((app["verdict"], app["status"], app["up_to_date"]), ("fail", "fail", True))
        with open(os.path.join(self.state, self.instance, f"{APP}.json")) as f:
            on_disk = json.load(f)
        self.assertEqual(app["verified_usec"], on_disk["verified_usec"])
        checks = {c["check"]: c for c in app["checks"]}
        self.assertEqual(checks["jobs"]["result"], "fail")
        self.assertIn("NoSuchJob", checks["jobs"]["reason"])
        self.assertEqual(checks["panels"]["result"], "pass")
        self.assertFalse(pkgs["nautobot"]["app"])

    def test_status_nagios(self):
        p = ctl("-c", self.conf, "status", "--nagios", "--instance", self.instance)
        self.assertRegex(p.stdout, NAGIOS)
        word = NAGIOS.match(p.stdout).group(1)
        self.assertEqual(word, "CRITICAL", p.stdout)
        self.assertEqual(p.returncode, NAGIOS_CODES[word])
        self.assertIn(f"{APP} {self.tb['NVD_TB_APP_VERSION']} FAILED (jobs)", p.stdout)
        perf = dict(re.findall(r"'([^']+)'=([^ \n]+)", p.stdout.split(" | ", 1)[1]))
        self.assertEqual(perf["failed"].split(";")[0], "1")
        self.assertEqual(perf["passed"].split(";")[0], "2")  # versions and panels
        self.assertRegex(perf["age"], r"^\d+s;;;0$")

    def test_status_not_verified_yet(self):
        """The installed release is not the verified one: WARNING, exit 2, said so. The last
        verdict (a failure, of the release before) is stale for the whole instance."""
        state = self.state_copy("older")
        path = os.path.join(state, self.instance, f"{APP}.json")
        with open(path) as f:
            doc = json.load(f)
        doc["version"] = "2026.5.12"
        with open(path, "w") as f:
            json.dump(doc, f)
        p = ctl("-c", self.conf, "--state-directory", state, "status")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn(f"{APP} {self.tb['NVD_TB_APP_VERSION']} installed, not verified yet "
                      "(last verified: 2026.5.12 FAIL", p.stdout)
        n = ctl("-c", self.conf, "--state-directory", state, "status", "--nagios")
        self.assertRegex(n.stdout, NAGIOS)
        self.assertTrue(n.stdout.startswith("NAUTOBOT-VERIFYD WARNING - "), n.stdout)
        self.assertNotIn("FAILED", n.stdout)  # the stale verdict is not news
        self.assertEqual(n.returncode, 1)
        j = self.json_of(ctl("-c", self.conf, "--state-directory", state, "status", "--json"))
        app = next(p for p in j["instances"][0]["packages"] if p["package"] == APP)
        self.assertEqual((app["status"], app["up_to_date"], j["verdict"], j["exit_status"]),
                         ("not-verified", False, "not-verified", 2))

    def test_status_without_state(self):
        empty = tempfile.mkdtemp(dir=self.tmp)
        p = ctl("-c", self.conf, "--state-directory", empty, "status")
        self.assertEqual(p.returncode, 2)
        self.assertIn(f"No verification recorded in {empty}", p.stdout)
        n = ctl("-c", self.conf, "--state-directory", empty, "status", "--nagios")
        self.assertRegex(n.stdout, NAGIOS)
        self.assertTrue(n.stdout.startswith("NAUTOBOT-VERIFYD UNKNOWN - "), n.stdout)
        self.assertEqual(n.returncode, 3)
        gone = os.path.join(self.tmp, "no-such-dir")
        n = ctl("-c", self.conf, "--state-directory", gone, "status", "--nagios")
        self.assertEqual((n.returncode, n.stdout),
                         (3, f"NAUTOBOT-VERIFYD UNKNOWN - No verification recorded: {gone} does not exist\n"))
        # A bad command line is UNKNOWN too, by the guidelines.
        n = ctl("status", "--nagios", "--no-such-option")
        self.assertEqual(n.returncode, 3)
        self.assertRegex(n.stdout, NAGIOS)

    def test_status_corrupt_state(self):
        state = self.state_copy("corrupt")
        path = os.path.join(state, self.instance, f"{APP}.json")
        with open(path, "w") as f:
            f.write("{not json")
        p = ctl("-c", self.conf, "--state-directory", state, "status")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)  # nautobot's state still says fail
        self.assertIn(f"{path} is not a state file of nautobot-verifyd", p.stdout)
        j = ctl("-c", self.conf, "--state-directory", state, "status", "--json")
        doc = self.json_of(j)
        broken = next(p for p in doc["instances"][0]["packages"] if p["state_file"] == path)
        self.assertEqual(broken["status"], "unknown")
        self.assertIn("is not a state file", broken["error"])
        self.assertIn(path, j.stderr)
        os.chmod(path, 0)
        if os.geteuid() != 0:  # root reads it anyway
            p = ctl("-c", self.conf, "--state-directory", state, "status")
            self.assertIn(f"cannot read {path}: Permission denied", p.stdout)

    def test_unreadable_configuration(self):
        p = ctl("-c", os.path.join(self.tmp, "missing.conf"), "status")
        self.assertEqual(p.returncode, 78)
        self.assertIn("missing.conf: cannot open: No such file or directory", p.stderr)

    # ---- show ----

    def assertRunMatchesJournal(self, run, daemon_run):
        """Every check as the journal has it: result, reason, findings."""
        self.assertEqual(run["verdict"], daemon_run.check("summary")["NVD_RESULT"])
        self.assertEqual([c["check"] for c in run["checks"]], list(nvdtest.CHECKS))
        for c in run["checks"]:
            entry = daemon_run.check(c["check"])
            self.assertEqual(c["result"], entry["NVD_RESULT"], c["check"])
            self.assertEqual(c["reason"], entry["NVD_REASON"], c["check"])
            self.assertEqual(c["findings"], daemon_run.findings(c["check"]), c["check"])
            self.assertEqual(c["duration_usec"], int(entry["NVD_DURATION_USEC"]))

    def test_show_last(self):
        p = ctl("show", "--last", "--instance", self.instance)
        self.assertEqual(p.returncode, 1, p.stderr)
        out = p.stdout
        self.assertTrue(out.startswith(f"Run {self.run2}\n"), out)
        self.assertIn(f"Instance: {self.instance}", out)
        self.assertIn("Verdict: FAIL: 2 passed, 1 failed, 0 could not run, 6 skipped", out)
        self.assertRegex(out, r"\n  jobs +FAIL +[0-9.]+ s +1 of 8 expected Jobs are not usable: missing: NoSuchJob\n")
        self.assertRegex(out, r"\n  panels +pass ")
        for finding in self.failing.findings("jobs"):
            self.assertIn(f"- {finding}\n", out)
        self.assertNotIn("evidence:", out)
        j = self.json_of(ctl("show", "--last", "--instance", self.instance, "--json"))
        self.assertEqual(j["run"]["run_id"], self.run2)
        self.assertRunMatchesJournal(j["run"], self.failing)
        self.assertNotIn("evidence", j["run"]["checks"][0])

    def test_show_run_id(self):
        p = ctl("show", self.run1)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(p.stdout.startswith(f"Run {self.run1}\n"))
        self.assertIn("Verdict: pass: 3 passed, 0 failed", p.stdout)
        self.assertIn(f"Started by: {APP} installed (none \u2192 {self.tb['NVD_TB_APP_VERSION']})", p.stdout)
        # A prefix, as history prints it; evidence on request.
        e = ctl("show", self.run1[:12], "--evidence")
        self.assertEqual(e.returncode, 0, e.stderr)
        self.assertIn("evidence:", e.stdout)
        self.assertIn("nautobot >= 3.1.0: nautobot", e.stdout)
        j = self.json_of(ctl("show", self.run1, "--json", "--evidence"))
        self.assertRunMatchesJournal(j["run"], self.passing)
        versions = next(c for c in j["run"]["checks"] if c["check"] == "versions")
        self.assertEqual(versions["evidence"], self.passing.check("versions")["NVD_EVIDENCE"])
        self.assertEqual(j["run"]["trigger"]["change"], "installed")
        self.assertEqual(j["run"]["counts"], {"passed": 3, "failed": 0, "errors": 0, "skipped": 6})

    def test_show_unknown_run(self):
        unknown = "0123456789abcdef0123456789abcdef"
        p = ctl("show", unknown)
        self.assertEqual(p.returncode, 66)
        self.assertIn(f"No run {unknown} in the journal", p.stderr)
        self.assertEqual(p.stdout, "")
        p = ctl("show", "not-a-run")
        self.assertEqual(p.returncode, 64)
        self.assertIn("'not-a-run' is not a run id", p.stderr)
        p = ctl("diff", self.run1, "ffffffffff")
        self.assertEqual(p.returncode, 66)
        self.assertIn("No run in the journal has an id starting with 'ffffffffff'", p.stderr)

    # ---- history ----

    def test_history(self):
        p = ctl("history", "--instance", self.instance)
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["TIME", "RUN", "INSTANCE", "PACKAGE", "VERSION", "VERDICT", "CHECKS"])
        self.assertEqual(len(lines), 3, p.stdout)
        self.assertEqual(lines[1].split()[2:7], [self.run2[:12], self.instance, APP, self.tb["NVD_TB_APP_VERSION"], "FAIL"])
        self.assertEqual(lines[2].split()[2:7], [self.run1[:12], self.instance, APP, self.tb["NVD_TB_APP_VERSION"], "pass"])
        self.assertIn("2 pass, 1 fail, 0 error, 6 skipped", lines[1])
        j = self.json_of(ctl("history", "--instance", self.instance, "--package", APP, "--json"))
        self.assertEqual([r["run_id"] for r in j["runs"]], [self.run2, self.run1])
        self.assertEqual([r["verdict"] for r in j["runs"]], ["fail", "pass"])
        self.assertGreaterEqual(j["runs"][0]["time_usec"], j["runs"][1]["time_usec"])
        self.assertFalse(j["truncated"])
        one = self.json_of(ctl("history", "--instance", self.instance, "-n", "1", "--json"))
        self.assertEqual(([r["run_id"] for r in one["runs"]], one["truncated"]), ([self.run2], True))
        none = self.json_of(ctl("history", "--instance", self.instance, "--package", "nautobot-dns-models", "--json"))
        self.assertEqual(none["runs"], [])
        later = ctl("history", "--instance", self.instance, "--since", f"@{int(time.time()) + 3600}")
        self.assertEqual(later.returncode, 0)
        self.assertIn("No verification runs in the journal for instance", later.stdout)
        since = self.json_of(ctl("history", "--instance", self.instance, "--since", "-1h", "--json"))
        self.assertEqual(len(since["runs"]), 2)

    # ---- diff ----

    def test_diff(self):
        p = ctl("diff", self.run1, self.run2)
        self.assertEqual(p.returncode, 1, p.stderr)  # the second run's verdict
        out = p.stdout
        self.assertTrue(out.startswith(f"From {self.run1[:12]} "), out)
        self.assertRegex(out, rf"\n  To {self.run2[:12]} .* FAIL\n")
        self.assertRegex(out, r"\n  verdict +pass \u2192 FAIL\n")
        self.assertRegex(out, r"\n  version +2026\.5\.17 \u2192 2026\.5\.17 \(unchanged\)\n")
        self.assertRegex(out, r"\n  jobs +pass \u2192 FAIL: 1 of 8 expected Jobs are not usable: missing: NoSuchJob\n")
        self.assertRegex(out, r"\n  unchanged +versions \(pass\), .*panels \(pass\)")
        j = self.json_of(ctl("diff", self.run1, self.run2, "--json"))
        self.assertTrue(j["changed"])
        self.assertEqual(j["verdict"], {"from": "pass", "to": "fail", "changed": True})
        self.assertEqual((j["from"]["run_id"], j["to"]["run_id"]), (self.run1, self.run2))
        checks = {c["check"]: c for c in j["checks"]}
        self.assertEqual((checks["jobs"]["from"], checks["jobs"]["to"], checks["jobs"]["changed"]),
                         ("pass", "fail", True))
        self.assertFalse(checks["versions"]["changed"])
        for name, c in checks.items():
            before, after = set(self.passing.findings(name)), set(self.failing.findings(name))
            self.assertEqual(set(c["findings_added"]), after - before, name)
            self.assertEqual(set(c["findings_removed"]), before - after, name)
            # What the check saw: its evidence, line by line (the Jobs, the panels).
            before, after = (set(filter(None, (line.strip() for line in r.check(name).get("NVD_EVIDENCE", "").split("\n"))))
                             for r in (self.passing, self.failing))
            self.assertEqual(set(c["evidence_added"]), after - before, name)
            self.assertEqual(set(c["evidence_removed"]), before - after, name)
        self.assertIn("NoSuchJob: missing", checks["jobs"]["evidence_added"])
        self.assertRegex(out, r"\n  evidence +what jobs saw differs \(--evidence lists the lines\)\n")
        e = ctl("diff", self.run1, self.run2, "--evidence")
        self.assertIn("\n  evidence    jobs\n", e.stdout)
        self.assertIn("\n              + NoSuchJob: missing\n", e.stdout)
        back = ctl("diff", self.run2[:12], self.run1[:12])
        self.assertEqual(back.returncode, 0)
        self.assertRegex(back.stdout, r"\n  jobs +FAIL \u2192 pass: ")
        same = self.json_of(ctl("diff", self.run1, self.run1, "--json"))
        self.assertFalse(same["changed"])

    # ---- runs written by hand into the real journal ----

    def journal_run(self, run_id, entries):
        """Entries of a run sent to journald in its native protocol, as sd_journal_sendv() does
        (a value holding a newline goes as name, newline, 64-bit length, value)."""
        for fields in entries:
            fields = [("SYSLOG_IDENTIFIER", "nautobot-verifyd"), ("NVD_RUN_ID", run_id),
                      ("NVD_INSTANCE", f"{self.instance}-synthetic"), ("NVD_PACKAGE", APP), *fields]
            datagram = b""
            for key, value in fields:
                value = value if isinstance(value, bytes) else str(value).encode()
                if b"\n" in value:
                    datagram += key.encode() + b"\n" + struct.pack("<Q", len(value)) + value + b"\n"
                else:
                    datagram += key.encode() + b"=" + value + b"\n"
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto(datagram, "/run/systemd/journal/socket")
        deadline = time.monotonic() + 10
        while ctl("show", run_id).returncode == 66 and time.monotonic() < deadline:
            time.sleep(0.1)

    def test_findings_added_removed_and_bounds(self):
        """What the daemon does not produce on a healthy test bed: findings that come and go,
        a run without a summary, more findings than kept, bytes that are not text."""
        a, b, c = (os.urandom(16).hex() for _ in range(3))
        check = [("MESSAGE", "check"), ("NVD_CHECK", "jobs"), ("NVD_VERSION", "2026.5.12")]
        self.journal_run(a, [check + [("NVD_RESULT", "pass"), ("NVD_REASON", "fine"),
                                      ("NVD_FINDING", "kept"), ("NVD_FINDING", "gone later"),
                                      ("NVD_EVIDENCE", "2 Job(s)\n  AJob: installed\n  OldJob: installed")],
                             [("MESSAGE", "summary"), ("NVD_CHECK", "summary"), ("NVD_RESULT", "pass"),
                              ("NVD_VERSION", "2026.5.12"), ("NVD_PASSED", 1)]])
        self.journal_run(b, [[("MESSAGE", "check"), ("NVD_CHECK", "jobs"), ("NVD_VERSION", "2026.5.17"),
                              ("NVD_RESULT", "fail"), ("NVD_REASON", "a Job is missing"),
                              ("NVD_FINDING", "kept"), ("NVD_FINDING", "new here"),
                              ("NVD_EVIDENCE", "2 Job(s)\n  AJob: installed\n  NewJob: installed\n")],
                             [("MESSAGE", "summary"), ("NVD_CHECK", "summary"), ("NVD_RESULT", "fail"),
                              ("NVD_VERSION", "2026.5.17"), ("NVD_FAILED", 1)]])
        d = self.json_of(ctl("diff", a, b, "--json"))
        self.assertEqual(d["version"], {"from": "2026.5.12", "to": "2026.5.17", "changed": True})
        [jobs] = d["checks"]
        self.assertEqual((jobs["findings_added"], jobs["findings_removed"]), (["new here"], ["gone later"]))
        p = ctl("diff", a, b)
        self.assertEqual(p.returncode, 1)
        self.assertIn("  version     2026.5.12 \u2192 2026.5.17\n", p.stdout)
        self.assertIn("  jobs        pass \u2192 FAIL: a Job is missing\n              + new here\n"
                      "              - gone later\n", p.stdout)
        self.assertEqual((jobs["evidence_added"], jobs["evidence_removed"]),
                         (["NewJob: installed"], ["OldJob: installed"]))
        e = ctl("diff", a, b, "--evidence")
        self.assertIn("\n  evidence    jobs\n              + NewJob: installed\n"
                      "              - OldJob: installed\n", e.stdout)
        # No summary (stopped before its verdict), 70 findings, an escape sequence and a byte
        # that is not UTF-8: unfinished, 64 findings kept, escaped on a terminal, valid JSON.
        self.journal_run(c, [check + [("NVD_RESULT", "error"), ("NVD_REASON", b"bad \x1b[31mred\xff"),
                                      *[("NVD_FINDING", f"finding {i}") for i in range(70)]]])
        p = ctl("show", c)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("Verdict: unfinished: the run wrote no summary", p.stdout)
        self.assertIn("bad \\x1b[31mred\\xff", p.stdout)
        self.assertNotIn("\033", p.stdout)
        self.assertIn("(more findings than the 64 shown)", p.stdout)
        j = self.json_of(ctl("show", c, "--json"))
        self.assertEqual(j["run"]["verdict"], "unfinished")
        self.assertEqual((j["run"]["counts"], j["run"]["duration_usec"]), (None, None))
        [jobs] = j["run"]["checks"]
        self.assertEqual((len(jobs["findings"]), jobs["findings_truncated"]), (64, True))
        self.assertEqual(jobs["reason"], "bad \x1b[31mred\ufffd")
        # history lists runs with a summary only; --last picks the newest of those.
        h = self.json_of(ctl("history", "--instance", f"{self.instance}-synthetic", "--json"))
        self.assertEqual([r["run_id"] for r in h["runs"]], [b, a])
        last = self.json_of(ctl("show", "--last", "--instance", f"{self.instance}-synthetic", "--json"))
        self.assertEqual(last["run"]["run_id"], b)

    # ---- systemd's units over D-Bus ----

    def test_units_over_dbus(self):
        """GetUnit and ActiveState/SubState as systemd answers them: a python-dbusmock stand-in
        for org.freedesktop.systemd1 on a bus of our own (DBUS_SYSTEM_BUS_ADDRESS); first with
        nothing owning the name ("not running here"), then with it."""
        python = "/usr/bin/python3"  # Debian's python3-dbusmock, whatever python runs this test
        if not shutil.which("dbus-daemon") or subprocess.run([python, "-c", "import dbusmock"],
                                                             capture_output=True).returncode != 0:
            self.skipTest("no dbus-daemon or python3-dbusmock")
        d = tempfile.mkdtemp(dir=self.tmp)
        socket_path = os.path.join(d, "bus")
        with open(os.path.join(d, "bus.conf"), "w") as f:
            f.write(f"""<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:path={socket_path}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/>
<allow own="*"/></policy></busconfig>
""")
        units = {f"nautobot-verifyd-check@{self.instance}.path": ("active", "waiting"),
                 f"nautobot-verifyd-check@{self.instance}.service": ("failed", "failed")}
        with open(os.path.join(d, "systemd_mock.py"), "w") as f:
            f.write(f"""import dbus
BUS_NAME = "org.freedesktop.systemd1"
MAIN_OBJ = "/org/freedesktop/systemd1"
MAIN_IFACE = "org.freedesktop.systemd1.Manager"
SYSTEM_BUS = True
UNITS = {units!r}

def load(mock, parameters):
    paths = {{}}
    for i, (name, (active, sub)) in enumerate(UNITS.items()):
        paths[name] = f"/org/freedesktop/systemd1/unit/u{{i}}"
        mock.AddObject(paths[name], "org.freedesktop.systemd1.Unit",
                       {{"Id": name, "ActiveState": active, "SubState": sub}}, [])
    mock.AddMethod(MAIN_IFACE, "GetUnit", "s", "o",
                   f"paths = {{paths!r}}\\n"
                   "if args[0] not in paths:\\n"
                   "    raise dbus.exceptions.DBusException('Unit ' + args[0] + ' not loaded.', "
                   "name='org.freedesktop.systemd1.NoSuchUnit')\\n"
                   "ret = dbus.ObjectPath(paths[args[0]])")
""")
        bus = subprocess.Popen(["dbus-daemon", f"--config-file={d}/bus.conf", "--nofork", "--print-address=1"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        mock = None
        try:
            env = {"DBUS_SYSTEM_BUS_ADDRESS": bus.stdout.readline().strip()}
            doc = self.json_of(ctl("-c", self.conf, "status", "--json", "--instance", self.instance, env=env))
            self.assertFalse(doc["systemd"]["running"])
            self.assertEqual(doc["systemd"]["reason"],
                             "not running here (nothing owns org.freedesktop.systemd1 on the system bus)")
            mock = subprocess.Popen([python, "-m", "dbusmock", "--system", "-t", os.path.join(d, "systemd_mock.py")],
                                    env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 30
            while not doc["systemd"]["running"] and time.monotonic() < deadline:
                time.sleep(0.2)
                doc = self.json_of(ctl("-c", self.conf, "status", "--json", "--instance", self.instance, env=env))
            self.assertTrue(doc["systemd"]["running"], doc["systemd"])
            got = {u["unit"]: (u["loaded"], u["active_state"], u["sub_state"]) for u in doc["instances"][0]["units"]}
            i = self.instance
            self.assertEqual(got, {f"nautobot-verifyd@{i}.service": (False, "inactive", "dead"),
                                   f"nautobot-verifyd-check@{i}.path": (True, "active", "waiting"),
                                   f"nautobot-verifyd-check@{i}.timer": (False, "inactive", "dead"),
                                   f"nautobot-verifyd-check@{i}.service": (True, "failed", "failed")})
            p = ctl("-c", self.conf, "status", "--instance", self.instance, env=env)
            self.assertIn(f"Units:    nautobot-verifyd@{i}.service inactive (dead), "
                          f"nautobot-verifyd-check@{i}.path active (waiting), "
                          f"nautobot-verifyd-check@{i}.timer inactive (dead), "
                          f"nautobot-verifyd-check@{i}.service failed\n", p.stdout)
        finally:
            for proc in (mock, bus):
                if proc:
                    proc.terminate()
                    proc.wait(timeout=10)

    # ---- a terminal ----

    def test_colour_only_on_a_terminal(self):
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "TERM": "xterm", "COLUMNS": "100"}
        code, out = on_pty(["show", self.run2], env)
        self.assertEqual(code, 1, out)
        self.assertIn("\033[1;31mFAIL", out)
        for line in out.replace("\r\n", "\n").splitlines():
            self.assertLessEqual(len(re.sub(r"\033\[[0-9;]*m", "", line)), 100, line)
        code, out = on_pty(["show", self.run2], {**env, "NO_COLOR": "1"})
        self.assertEqual(code, 1, out)
        self.assertNotIn("\033", out)
        self.assertIn("FAIL", out)
        code, out = on_pty(["-c", self.conf, "status"], {**env, "COLUMNS": "60"})
        self.assertEqual(code, 1, out)
        self.assertIn("\u2026", out)  # cut to the width
        for line in out.replace("\r\n", "\n").splitlines():
            self.assertLessEqual(len(re.sub(r"\033\[[0-9;]*m", "", line)), 60, line)


class VerifyWithoutSystemd(nvdtest.TestCase):
    """verify --wait where systemd does not run: the daemon runs in this process (--once)."""

    def test_verify_wait_runs_the_daemon(self):
        if systemd_runs_here():
            self.skipTest("systemd runs here: tests/systemd/test_units_systemd.py covers verify under it")
        instance = f"vfy-{os.getpid()}"
        extra = {("checks", "enable"): "versions, jobs", ("nautobot", "instance"): instance}
        conf = nvdtest.write_config(self.tb, os.path.join(self.tmp, "vfy.conf"), extra)
        since = time.time_ns() // 1000
        p = ctl("-c", conf, "verify", "--wait", "--daemon", nvdtest.DAEMON, timeout=600)
        out = p.stdout + p.stderr
        self.assertEqual(p.returncode, 0, out)
        self.assertIn(f"systemd is not running here: verifying in this process ({nvdtest.DAEMON} --once)",
                      p.stderr)
        # The daemon's table: each enabled check with its result.
        self.assertRegex(p.stdout, r"(?m)^\s*versions\s+pass\b", out)
        self.assertRegex(p.stdout, r"(?m)^\s*jobs\s+pass\b", out)
        # ... and its report in the journal, under this instance.
        entries = self.entries_of(instance, since, want=2)
        results = {e["NVD_CHECK"]: e["NVD_RESULT"] for e in entries if "NVD_CHECK" in e}
        self.assertEqual((results.get("versions"), results.get("jobs"), results.get("summary")),
                         ("pass", "pass", "pass"), results)
        self.assertEqual(results.get("panels"), "skipped", results)
        # The verdict passes through: a Job no code defines fails the same way.
        nvdtest.write_config(self.tb, conf, {**extra, ("package", "jobs"): "NoSuchJob"})
        p = ctl("-c", conf, "verify", "--daemon", nvdtest.DAEMON, timeout=600)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertRegex(p.stdout, r"(?mi)^\s*jobs\s+fail\b", p.stdout)
        # A daemon that is not there: a clear error, 71.
        p = ctl("-c", conf, "verify", "--daemon", "/nonexistent/nautobot-verifyd")
        self.assertEqual(p.returncode, 71, p.stdout + p.stderr)
        self.assertIn("Cannot run /nonexistent/nautobot-verifyd: No such file or directory", p.stderr)

    def test_verify_json(self):
        """verify --json: the daemon's text on stderr, one document on stdout, its run from the journal."""
        if systemd_runs_here():
            self.skipTest("systemd runs here: tests/systemd/test_units_systemd.py covers verify --json under it")
        validate = validator()
        instance = f"vfyj-{os.getpid()}"
        extra = {("checks", "enable"): "versions, jobs", ("nautobot", "instance"): instance}
        conf = nvdtest.write_config(self.tb, os.path.join(self.tmp, "vfyj.conf"), extra)

        def verify_json(*args):
            p = ctl("-c", conf, "verify", "--json", "--daemon", nvdtest.DAEMON, *args, timeout=600)
            out = f"exit {p.returncode}\n--- stdout\n{p.stdout}\n--- stderr\n{p.stderr}"
            # Exactly one document (json.loads refuses anything after it), nothing else on stdout.
            self.assertTrue(p.stdout.startswith("{\n") and p.stdout.endswith("\n}\n"), out)
            doc = json.loads(p.stdout)
            validate(doc)
            self.assertEqual((doc["schema"], doc["command"], doc["unit"], doc["job"], doc["job_result"],
                              doc["forced"], doc["joined"], doc["waited"]),
                             ("nautobot-verifyctl/1", "verify", None, None, None, False, False, True), out)
            self.assertEqual(doc["exit_status"], p.returncode, out)
            self.assertIn(f"systemd is not running here: verifying in this process ({nvdtest.DAEMON} --once)",
                          p.stderr)
            return p, doc, out

        p, doc, out = verify_json()
        self.assertEqual((p.returncode, doc["outcome"]), (0, "verdict"), out)
        run = doc["run"]
        self.assertEqual((run["verdict"], run["instance"], run["package"]), ("pass", instance, APP), out)
        results = {c["check"]: c["result"] for c in run["checks"]}
        self.assertEqual((results.get("versions"), results.get("jobs"), results.get("panels")),
                         ("pass", "pass", "skipped"), out)
        self.assertNotIn("evidence", run["checks"][0], out)
        # The daemon's table went to stderr, as it came.
        self.assertRegex(p.stderr, r"(?m)^\s*versions\s+pass\b", out)
        self.assertRegex(p.stderr, r"(?m)^\s*jobs\s+pass\b", out)
        # The run is the journal's: show --json of its id says the same.
        shown = json.loads(ctl("show", run["run_id"], "--json").stdout)
        self.assertEqual(shown["run"], run)

        # A Job no code defines: exit 1, the verdict "fail", and --evidence in the run's checks.
        nvdtest.write_config(self.tb, conf, {**extra, ("package", "jobs"): "NoSuchJob"})
        p, doc, out = verify_json("--evidence")
        self.assertEqual((p.returncode, doc["outcome"]), (1, "verdict"), out)
        self.assertEqual(doc["run"]["verdict"], "fail", out)
        jobs = [c for c in doc["run"]["checks"] if c["check"] == "jobs"]
        self.assertEqual([c["result"] for c in jobs], ["fail"], out)
        self.assertIn("NoSuchJob", " ".join(jobs[0]["findings"]) + jobs[0]["reason"], out)
        self.assertIn("NoSuchJob: missing", jobs[0]["evidence"] or "", out)
        self.assertNotEqual(doc["run"]["run_id"], run["run_id"], out)
        self.assertRegex(p.stderr, r"(?mi)^\s*jobs\s+fail\b", out)

        # A daemon that wrote no run (its configuration is missing): its exit status, "run": null.
        os.unlink(conf)
        p, doc, out = verify_json()
        self.assertEqual((p.returncode, doc["outcome"], doc["run"]), (78, "no-verdict", None), out)
        self.assertIn("No run of", p.stderr, out)
        # A daemon that is not there: no document, the error, 71.
        p = ctl("-c", conf, "verify", "--json", "--daemon", "/nonexistent/nautobot-verifyd")
        self.assertEqual((p.returncode, p.stdout), (71, ""), p.stderr)
        self.assertIn("Cannot run /nonexistent/nautobot-verifyd: No such file or directory", p.stderr)

    def test_verify_command_line(self):
        for args, what in ((["verify", "extra"], "verify takes no argument"),
                           (["verify", "--directory", "/tmp"], "not with --directory or --file"),
                           (["verify", "--file", "/tmp/x.journal"], "not with --directory or --file"),
                           (["verify", "--evidence"], "--evidence goes with show, diff and verify --json"),
                           (["verify", "--timeout", "5min"], "--timeout goes with verify --wait"),
                           (["verify", "--wait", "--timeout", "soon"], "--timeout wants a duration"),
                           (["status", "--wait"], "--wait, --timeout and --daemon go with verify"),
                           (["verify", "--daemon", "relative"], "--daemon wants an absolute path")):
            p = ctl(*args)
            self.assertEqual(p.returncode, 64, (args, p.stderr))
            self.assertIn(what, p.stderr, args)

    def entries_of(self, instance, since, want, timeout=15):
        deadline = time.monotonic() + timeout
        while True:
            out = subprocess.run(["journalctl", "--no-pager", "-o", "json", f"--since=@{since // 1_000_000 - 1}",
                                  "SYSLOG_IDENTIFIER=nautobot-verifyd", f"NVD_INSTANCE={instance}"],
                                 capture_output=True, text=True, timeout=30).stdout
            entries = [e for e in (json.loads(line) for line in out.splitlines() if line.strip())
                       if int(e["__REALTIME_TIMESTAMP"]) >= since]
            if any(e.get("NVD_CHECK") == "summary" for e in entries) or time.monotonic() > deadline:
                return entries
            time.sleep(0.2)


if __name__ == "__main__":
    nvdtest.main()
