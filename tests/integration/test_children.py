# SPDX-License-Identifier: LGPL-2.1-or-later
"""What nautobot-server children get and what they leave (issue 15 items 8 and 9).

nautobot-server is wrapped by a script that records the descriptors it was
started with (the wrapper's are exactly the daemon's gift: it execs the real
server afterwards) and starts a grandchild that leaves the process group with
setsid() and keeps stdout and stderr (and, for the probe, the result pipe)
open. The run must end when nautobot-server does, far from command-timeout,
and the grandchild must not outlive the daemon. Both ways of starting
nautobot-server are run: the Django probe (lib/sys/probe.c) and the command
lines (lib/checks/check-command.c).
"""

import os
import re
import time
import uuid

import nvdtest

COMMAND_TIMEOUT = 120
# Loose: a correctness bound, not a benchmark. Without the fix a run waits COMMAND_TIMEOUT.
RUN_MAX_SECONDS = 60


def alive(pid):
    """Running, or a zombie nobody reaps: either way not ended by the daemon."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return True
    except FileNotFoundError:
        return False


class Children(nvdtest.TestCase):
    def wrapped(self, name):
        """A nautobot-server wrapper in its own directory; returns (wrapper, record directory, marker)."""
        top = os.path.join(self.tmp, name)
        bindir = os.path.join(top, "bin")
        record = os.path.join(top, "record")
        os.makedirs(bindir)
        os.makedirs(record)
        wrapper = os.path.join(bindir, "nautobot-server")
        with open(wrapper, "w") as f:
            # ls lists the shell's descriptors while the shell waits for it; in a subshell, as dash
            # redirects a command's output in the shell itself (and saves its stdout above 10).
            # The grandchild writes its pid before sleeping; $$ of "sh -c" is the sleep after exec.
            f.write("#!/bin/sh\n"
                    f'echo "$1" > {record}/$$.args\n'
                    f"(ls -l /proc/$$/fd > {record}/$$.fds)\n"
                    f"setsid sh -c 'echo $$ > {record}/$PPID.grandchild; exec sleep 600' &\n"
                    f'exec {self.tb["NVD_TB_SERVER"]} "$@"\n')
        os.chmod(wrapper, 0o755)
        marker = f"NVD_TEST_MARKER={uuid.uuid4().hex}"
        env = os.path.join(top, "nautobot.env")
        with open(self.tb["NVD_TB_ENV_FILE"]) as src, open(env, "w") as dst:
            dst.write(src.read().rstrip("\n") + f"\n{marker}\n")
        return wrapper, env, record, marker

    def records(self, record):
        """{wrapper pid: (first argument, descriptors, grandchild pid or None)}"""
        found = {}
        for name in os.listdir(record):
            pid, _, kind = name.partition(".")
            if kind != "args":
                continue
            with open(os.path.join(record, name)) as f:
                arg = f.read().strip()
            with open(os.path.join(record, f"{pid}.fds")) as f:
                fds = f.read()
            grandchild = None
            path = os.path.join(record, f"{pid}.grandchild")
            deadline = time.monotonic() + 5
            while grandchild is None and time.monotonic() < deadline:
                try:
                    with open(path) as f:
                        grandchild = int(f.read().strip())
                except (FileNotFoundError, ValueError):
                    time.sleep(0.05)
            found[int(pid)] = (arg, fds, grandchild)
        return found

    def fds_of(self, listing, wrapper):
        """The descriptor numbers of an ls -l of /proc/PID/fd, but the one the shell reads its script from."""
        fds = set()
        for line in listing.splitlines():
            m = re.search(r" (\d+) -> (.*)$", line)
            if m and m.group(2) != wrapper:
                fds.add(int(m.group(1)))
        return fds

    def run_wrapped(self, name, extra, want_fds):
        wrapper, env, record, marker = self.wrapped(name)
        conf = self.config(f"{name}.conf", {**extra,
                                            ("nautobot", "server"): wrapper,
                                            ("nautobot", "environment-file"): env,
                                            ("nautobot", "command-timeout"): str(COMMAND_TIMEOUT)})
        t0 = time.monotonic()
        r = nvdtest.Run(conf, timeout=COMMAND_TIMEOUT * 4)
        elapsed = time.monotonic() - t0
        started = self.records(record)
        # Each a subtest: a failing one does not hide the others.
        try:
            self.assertTrue(started, f"nautobot-server never ran\n{r.dump()}")
            with self.subTest("the run ends when nautobot-server does"):
                self.assertLess(elapsed, RUN_MAX_SECONDS,
                                f"the run took {elapsed:.0f} s with command-timeout={COMMAND_TIMEOUT}: it waited "
                                f"for a grandchild that holds the pipes\n{r.dump()}")
            # Item 9: what the daemon passed, nothing more (libcurl's socketpair is not O_CLOEXEC).
            for pid, (arg, fds, _) in started.items():
                with self.subTest("only the daemon's descriptors", server_arg=arg):
                    self.assertEqual(self.fds_of(fds, wrapper), want_fds(arg),
                                     f"nautobot-server {arg} (pid {pid}) was started with\n{fds}")
            # Item 8: the grandchild ended with the daemon (killed and reaped: not even a zombie).
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and any(g and alive(g) for _, _, g in started.values()):
                time.sleep(0.1)
            for pid, (arg, _, grandchild) in started.items():
                with self.subTest("the grandchild ends with the daemon", server_arg=arg):
                    self.assertIsNotNone(grandchild, f"the grandchild of nautobot-server {arg} never started")
                    self.assertFalse(alive(grandchild),
                                     f"the setsid() grandchild {grandchild} of nautobot-server {arg} outlived the daemon")
            with self.subTest("nothing of nautobot-server's outlives the daemon"):
                self.assertEqual(nvdtest.processes_with(marker), [], "children of nautobot-server outlived the daemon")
        finally:
            for _, _, grandchild in started.values():  # a failed run must not leave them to the next test
                if grandchild and alive(grandchild):
                    try:
                        os.kill(grandchild, 9)
                    except ProcessLookupError:
                        pass
        return r

    def test_probe(self):
        # One Django boot (the default): the probe gets the result pipe as fd 3.
        r = self.run_wrapped("probe", {("checks", "enable"): "system, migrations"},
                             lambda arg: {0, 1, 2, 3} if arg == "shell" else {0, 1, 2})
        self.assertEqual(r.code, 0, r.dump())
        for check in ("system", "migrations"):
            self.assertResult(r, check, "pass")
        # What it left behind is said (once, by the system check of the shared boot).
        self.assertIn("nautobot-server left 1 process(es) running when it exited", " ".join(r.findings("system")))

    def test_commands(self):
        # One nautobot-server command line per check, started by check-command.c.
        r = self.run_wrapped("commands", {("checks", "enable"): "system, migrations", ("checks", "django"): "command"},
                             lambda arg: {0, 1, 2})
        self.assertEqual(r.code, 0, r.dump())
        for check in ("system", "migrations"):
            self.assertResult(r, check, "pass")
            self.assertIn("nautobot-server left 1 process(es) running when it exited", " ".join(r.findings(check)))


if __name__ == "__main__":
    nvdtest.main()
