# SPDX-License-Identifier: LGPL-2.1-or-later
"""nautobot-verifyctl against a journal that lies: entries that claim to be the daemon's.

The real daemon verifies the real test bed once, and fails (an expected Job that no
code defines). Then a throwaway unprivileged account writes, in journald's native
protocol, a summary of a run that "passed" for the same instance and app, newer than
the real one, plus a check entry slipped into the real run; their fields hold escape
sequences, an OSC title change, BEL, U+202E and bytes that are not UTF-8. journald
stamps them with that account's _UID, which no client can forge:

- history, show --last and show RUN-ID present only the daemon's run (its FAIL, its
  checks), say on stderr how many entries were ignored and whose, and count them in
  --json's "ignored_entries";
- status and --nagios, which read the state, are not swayed either.

Root's entries are trusted (the test bed runs the daemon as root, without systemd),
so a run root writes with the same hostile bytes shows: that covers the escaping on
its own. Text output holds no ESC, BEL, C1 CSI (0x9b, U+009B) or U+202E; --json is
valid UTF-8 and parses; --nagios is valid UTF-8.
"""

import json
import os
import shutil
import subprocess
import sys
import time
import uuid

import nvdtest
from test_verifyctl import NAGIOS, validator

CTL = os.path.join(nvdtest.BUILD_DIR, "daemon", "verifyctl", "nautobot-verifyctl")
APP = "nautobot-contract-models"
FAST = {("checks", "enable"): "versions, jobs, panels"}

# What must never reach a terminal from a journal field: ESC (so CSI and OSC), BEL,
# a one-byte CSI, U+009B (UTF-8 C2 9B), U+202E (right-to-left override).
FORBIDDEN = (b"\x1b", b"\x07", b"\x9b", "\u202e".encode())

# Fields of a hostile run: every kind of byte the escaper has to deal with.
HOSTILE_VERSION = b"\x1b[31m9.9.9\x07"
HOSTILE_URL = b"http://evil.example/\x1b]0;owned\x07"
HOSTILE_APP = "\u202eevil_app".encode()
HOSTILE_TRIGGER = b"pkg\xff\xfe"
HOSTILE_REASON = b"reason \xe2\x80\xae\x07 csi \xc2\x9b31m raw \x9b bad \xff cut \xe2\x86"
HOSTILE_FINDING = b"\x1b]8;;http://evil.example\x07link\x1b]8;;\x07"
HOSTILE_EVIDENCE = b"line one\x1b[1A\x1b[2K\nline two \xc2\x85 \xed\xa0\x80"

# Sends entries to journald's native socket as sd_journal_sendv() does (a value holding
# a newline as name, newline, 64-bit little-endian length, value). Run as the
# unprivileged account: it reads the entries (hex-encoded values) as JSON on stdin.
SENDER = r"""
import json, socket, struct, sys
for fields in json.load(sys.stdin):
    datagram = b""
    for key, value in fields:
        value = bytes.fromhex(value)
        if b"\n" in value:
            datagram += key.encode() + b"\n" + struct.pack("<Q", len(value)) + value + b"\n"
        else:
            datagram += key.encode() + b"=" + value + b"\n"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.sendto(datagram, "/run/systemd/journal/socket")
"""


def as_bytes(value):
    return value if isinstance(value, bytes) else str(value).encode()


def send_entries(entries, uid=None, gid=None):
    """Writes entries (lists of (field, value)) to the journal, as root or as uid:gid."""
    spec = json.dumps([[(k, as_bytes(v).hex()) for k, v in fields] for fields in entries])
    cmd = [sys.executable, "-c", SENDER]
    if uid is not None:
        cmd = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", *cmd]
    subprocess.run(cmd, input=spec, text=True, check=True, cwd="/", timeout=60,
                   env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})


def wait_for_entries(run_id, count, timeout=15):
    """Until journald stored 'count' entries of run_id (whoever wrote them)."""
    deadline = time.monotonic() + timeout
    while True:
        out = subprocess.run(["journalctl", "--no-pager", "-o", "json", f"NVD_RUN_ID={run_id}"],
                             capture_output=True, timeout=30).stdout
        entries = [json.loads(line) for line in out.splitlines() if line.strip()]
        if len(entries) >= count or time.monotonic() > deadline:
            return entries
        time.sleep(0.1)


def ctl(*args):
    """nautobot-verifyctl, its output as bytes: what reaches the terminal, byte for byte."""
    return subprocess.run([CTL, *args], capture_output=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})


def hostile_run(run_id, instance, result, check_name=b"jobs\x1b[31m"):
    """A run's check entry and summary with the hostile fields."""
    common = [("SYSLOG_IDENTIFIER", "nautobot-verifyd"), ("NVD_RUN_ID", run_id),
              ("NVD_INSTANCE", instance), ("NVD_PACKAGE", APP), ("NVD_APP", HOSTILE_APP),
              ("NVD_VERSION", HOSTILE_VERSION), ("NVD_URL", HOSTILE_URL),
              ("NVD_TRIGGER_PACKAGE", HOSTILE_TRIGGER), ("NVD_CHANGE", b"upgrade\x1b[2J"),
              ("NVD_OLD_VERSION", b"1.0\x07"), ("NVD_NEW_VERSION", "\u202e2.0".encode())]
    check = common + [("MESSAGE", b"check \x1b[31m"), ("NVD_CHECK", check_name),
                      ("NVD_RESULT", b"\xc2\x9bpass"), ("NVD_REASON", HOSTILE_REASON),
                      ("NVD_FINDING", HOSTILE_FINDING), ("NVD_FINDING", b"plain finding"),
                      ("NVD_EVIDENCE", HOSTILE_EVIDENCE), ("NVD_DURATION_USEC", 1200)]
    summary = common + [("MESSAGE", b"summary \x07"), ("NVD_CHECK", "summary"),
                        ("NVD_RESULT", result), ("NVD_PASSED", 9), ("NVD_DURATION_USEC", 5000)]
    return [check, summary]


class HostileJournal(nvdtest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            nvdtest.skip("needs root: an unprivileged account is created to write the forged entries")
        super().setUpClass()
        if not os.access(CTL, os.X_OK):
            raise RuntimeError(f"{CTL} is not built")
        cls.validate = staticmethod(validator())
        nvdtest.system_account(cls)

        # The genuine run: it fails (a Job no code defines), so a forged "pass" would be a lie.
        cls.instance = f"hostile-{os.getpid()}"
        extra = {**FAST, ("nautobot", "instance"): cls.instance, ("package", "jobs"): "NoSuchJob"}
        cls.conf = nvdtest.write_config(cls.tb, os.path.join(cls.tmp, "hostile.conf"), extra)
        cls.real = nvdtest.Run(cls.conf)
        assert cls.real.code == 1, cls.real.dump()
        cls.real_id = cls.real.check("summary")["NVD_RUN_ID"]

        # The forgery, as the unprivileged account: a newer run that "passed", its summary
        # also under the real run's id, and a check slipped into the real run.
        cls.forged_id = uuid.uuid4().hex
        forged = hostile_run(cls.forged_id, cls.instance, "pass")
        forged.append([("SYSLOG_IDENTIFIER", "nautobot-verifyd"), ("NVD_RUN_ID", cls.real_id),
                       ("NVD_INSTANCE", cls.instance), ("NVD_PACKAGE", APP), ("NVD_CHECK", "summary"),
                       ("NVD_RESULT", "pass"), ("NVD_PASSED", 9), ("MESSAGE", "summary")])
        forged.append([("SYSLOG_IDENTIFIER", "nautobot-verifyd"), ("NVD_RUN_ID", cls.real_id),
                       ("NVD_INSTANCE", cls.instance), ("NVD_PACKAGE", APP), ("NVD_CHECK", "zzforged"),
                       ("NVD_RESULT", "pass"), ("NVD_REASON", b"forged \x1b[31m"), ("MESSAGE", "check")])
        send_entries(forged, cls.uid, cls.gid)
        stored = wait_for_entries(cls.forged_id, 2)
        assert len(stored) == 2, stored
        assert all(e["_UID"] == str(cls.uid) for e in stored), stored
        wait_for_entries(cls.real_id, nvdtest.RUN_ENTRIES + 2)

        # Root's run with the same hostile bytes: trusted, so it shows, escaped.
        cls.root_instance = f"{cls.instance}-root"
        cls.root_id = uuid.uuid4().hex
        send_entries(hostile_run(cls.root_id, cls.root_instance, b"pass\x1b[32m"))
        assert len(wait_for_entries(cls.root_id, 2)) == 2

    def assertSafeText(self, out, what):
        for b in FORBIDDEN:
            self.assertNotIn(b, out, f"{what}: {b!r} reaches the terminal:\n{out!r}")
        out.decode("utf-8")  # strictly: escaped output is valid UTF-8

    def json_of(self, p, what, schema=True):
        text = p.stdout.decode("utf-8")  # strictly, whatever the journal held
        doc = json.loads(text)
        if schema:  # root's junk verdicts are outside the schema's enums: parsed, not validated
            self.validate(doc)
        # Control characters go as \u escapes (U+009B and U+202E are text to JSON).
        for b in (b"\x1b", b"\x07"):
            self.assertNotIn(b, p.stdout, f"{what}: JSON carries {b!r} raw")
        return doc

    def assertIgnored(self, p, what):
        err = p.stderr.decode("utf-8", "replace")
        self.assertRegex(err, rf"Ignored [1-9][0-9]* journal entr(y|ies) claiming to be nautobot-verifyd "
                              rf"from other accounts.* \(uid [0-9, ]*\b{self.uid}\b", f"{what}: {err}")
        self.assertSafeText(p.stderr, what)

    # ---- the forged run is not shown ----

    def test_history(self):
        p = ctl("-c", self.conf, "history", "--instance", self.instance)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertSafeText(p.stdout, "history")
        lines = p.stdout.decode().splitlines()
        self.assertEqual(len(lines), 2, p.stdout)  # the header and the real run
        self.assertEqual(lines[1].split()[2:7], [self.real_id[:12], self.instance, APP,
                                                 self.tb["NVD_TB_APP_VERSION"], "FAIL"])
        self.assertNotIn(self.forged_id[:12], p.stdout.decode())
        self.assertIgnored(p, "history")
        j = self.json_of(ctl("-c", self.conf, "history", "--instance", self.instance, "--json"), "history --json")
        self.assertEqual([r["run_id"] for r in j["runs"]], [self.real_id])
        self.assertEqual(j["runs"][0]["verdict"], "fail")
        # The two forged summaries the filter matched: the new run's and the one under the real id.
        self.assertEqual(j["ignored_entries"], 2)

    def test_show_last(self):
        p = ctl("-c", self.conf, "show", "--last", "--instance", self.instance)
        self.assertEqual(p.returncode, 1, p.stderr)  # the real verdict, FAIL
        self.assertSafeText(p.stdout, "show --last")
        out = p.stdout.decode()
        self.assertTrue(out.startswith(f"Run {self.real_id}\n"), out)
        self.assertIn("Verdict: FAIL: 2 passed, 1 failed", out)
        self.assertNotIn("zzforged", out)
        self.assertIgnored(p, "show --last")
        j = self.json_of(ctl("-c", self.conf, "show", "--last", "--instance", self.instance, "--json"),
                         "show --last --json")
        self.assertEqual((j["run"]["run_id"], j["run"]["verdict"]), (self.real_id, "fail"))
        self.assertEqual([c["check"] for c in j["run"]["checks"]], list(nvdtest.CHECKS))
        # Both forged summaries (newer than the real one), the forged check: each counted once.
        self.assertEqual(j["ignored_entries"], 3)

    def test_show_forged_run_id(self):
        """The forged run's own id: nothing trusted has it."""
        p = ctl("-c", self.conf, "show", self.forged_id)
        self.assertEqual(p.returncode, 66, p.stdout + p.stderr)
        self.assertEqual(p.stdout, b"")
        self.assertIgnored(p, "show FORGED-ID")
        # Its prefix names no run either (the real ones do not share it).
        p = ctl("-c", self.conf, "show", self.forged_id[:12])
        self.assertEqual(p.returncode, 66, p.stdout + p.stderr)
        self.assertIn(b"No run in the journal has an id starting with", p.stderr)

    def test_status(self):
        """status reads the state the daemon wrote, not the journal: the failure stands."""
        p = ctl("-c", self.conf, "status", "--instance", self.instance)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertSafeText(p.stdout, "status")
        self.assertIn(f"{self.instance}: {APP} {self.tb['NVD_TB_APP_VERSION']} FAILED (jobs)", p.stdout.decode())
        n = ctl("-c", self.conf, "status", "--nagios", "--instance", self.instance)
        text = n.stdout.decode("utf-8")  # strictly
        self.assertRegex(text, NAGIOS)
        self.assertTrue(text.startswith("NAUTOBOT-VERIFYD CRITICAL - "), text)
        self.assertEqual(n.returncode, 2)
        j = self.json_of(ctl("-c", self.conf, "status", "--json", "--instance", self.instance), "status --json")
        self.assertEqual(j["verdict"], "fail")

    def test_status_hostile_state(self):
        """Text from the state (the verified version, a check's reason) with escape sequences,
        U+202E, U+009B and a byte that is not UTF-8: escaped on a terminal, valid UTF-8 for
        --nagios and --json."""
        state = os.path.join(self.tmp, "hostile-state")
        shutil.rmtree(state, ignore_errors=True)
        shutil.copytree(nvdtest.state_dir_for(self.conf), state)
        path = os.path.join(state, self.instance, f"{APP}.json")
        with open(path) as f:
            doc = json.load(f)
        doc["version"] = "9.9\x1b]0;owned\x07\u202e\u009bBADBYTE"
        for c in doc["report"]["checks"]:
            if c["check"] == "jobs":
                c["reason"] = "missing \x1b[31mJob\x07 BADBYTE"
        with open(path, "wb") as f:
            f.write(json.dumps(doc).encode().replace(b"BADBYTE", b"\xff\xfe"))
        p = ctl("-c", self.conf, "--state-directory", state, "status", "--instance", self.instance)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)  # not verified: 9.9... is not installed
        self.assertSafeText(p.stdout, "status")
        self.assertIn("9.9\\x1b]0;owned\\x07\\xe2\\x80\\xae\\xc2\\x9b\\xff\\xfe", p.stdout.decode())
        n = ctl("-c", self.conf, "--state-directory", state, "status", "--nagios", "--instance", self.instance)
        self.assertEqual(n.returncode, 1, n.stdout)
        self.assertSafeText(n.stdout, "status --nagios")
        self.assertRegex(n.stdout.decode("utf-8"), NAGIOS)
        j = self.json_of(ctl("-c", self.conf, "--state-directory", state, "status", "--json", "--instance",
                             self.instance), "status --json")
        [row] = [r for r in j["instances"][0]["packages"] if r["package"] == APP]
        self.assertEqual(row["verified_version"], "9.9\x1b]0;owned\x07\u202e\x9b\ufffd\ufffd")

    # ---- root's run: trusted, escaped ----

    def test_root_run_escaped(self):
        p = ctl("-c", self.conf, "show", self.root_id, "--evidence")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)  # "pass\x1b[32m" is no verdict
        self.assertSafeText(p.stdout, "show ROOT-RUN")
        out = p.stdout.decode()
        self.assertIn("\\x1b[31m9.9.9\\x07", out)
        self.assertIn("http://evil.example/\\x1b]0;owned\\x07", out)
        self.assertIn("pkg\\xff\\xfe upgrade\\x1b[2J (1.0\\x07 \u2192 \\xe2\\x80\\xae2.0)", out)
        self.assertIn("Verdict: invalid:", out)
        self.assertRegex(out, r"\n  jobs\\x1b\[31m *invalid ")
        self.assertIn("reason \\xe2\\x80\\xae\\x07 csi \\xc2\\x9b31m raw \\x9b bad \\xff cut \\xe2\\x86", out)
        self.assertIn("\\x1b]8;;http://evil.example\\x07link\\x1b]8;;\\x07", out)
        self.assertIn("line one\\x1b[1A\\x1b[2K", out)
        self.assertIn("line two \\xc2\\x85 \\xed\\xa0\\x80", out)
        self.assertNotIn(b"Ignored", p.stderr)
        j = self.json_of(ctl("-c", self.conf, "show", self.root_id, "--json", "--evidence"), "show ROOT-RUN --json",
                         schema=False)
        run = j["run"]
        self.assertEqual(run["verdict"], "pass\x1b[32m")  # JSON escapes it; valid UTF-8 kept
        self.assertEqual(run["version"], "\x1b[31m9.9.9\x07")
        self.assertEqual(run["app"], "\u202eevil_app")
        self.assertEqual(run["trigger"]["package"], "pkg\ufffd\ufffd")
        [check] = run["checks"]
        self.assertEqual(check["result"], "\x9bpass")
        self.assertEqual(check["reason"], "reason \u202e\x07 csi \x9b31m raw \ufffd bad \ufffd cut \ufffd")
        self.assertEqual(check["evidence"], "line one\x1b[1A\x1b[2K\nline two \x85 \ufffd\ufffd\ufffd")
        self.assertEqual(j["ignored_entries"], 0)

    def test_root_run_history_and_diff(self):
        h = ctl("-c", self.conf, "history", "--instance", self.root_instance)
        self.assertEqual(h.returncode, 0, h.stderr)
        self.assertSafeText(h.stdout, "history ROOT-RUN")
        self.assertIn(self.root_id[:12], h.stdout.decode())
        self.assertIn("\\x1b[31m9.9.9\\x07", h.stdout.decode())
        self.json_of(ctl("-c", self.conf, "history", "--instance", self.root_instance, "--json"), "history --json",
                     schema=False)
        d = ctl("-c", self.conf, "diff", self.real_id, self.root_id, "--evidence")
        self.assertSafeText(d.stdout, "diff")
        self.assertIn("jobs\\x1b[31m", d.stdout.decode())
        self.assertRegex(d.stdout.decode(), r"\n  version +2026\.[0-9.]+ \u2192 \\x1b\[31m9\.9\.9\\x07\n")
        self.assertSafeText(d.stderr, "diff stderr")
        j = self.json_of(ctl("-c", self.conf, "diff", self.real_id, self.root_id, "--json"), "diff --json",
                         schema=False)
        self.assertEqual(j["version"]["to"], "\x1b[31m9.9.9\x07")
        # The forged check slipped into the real run was not read: ignored.
        self.assertNotIn("zzforged", [c["check"] for c in j["checks"]])
        self.assertGreaterEqual(j["ignored_entries"], 1)


if __name__ == "__main__":
    nvdtest.main()
