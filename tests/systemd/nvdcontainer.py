# SPDX-License-Identifier: LGPL-2.1-or-later
"""A real systemd PID 1 for tests: a Debian 12 image booted with systemd-nspawn.

The host runs no systemd and no machined, so the container is started the way
/work/shared/reference/systemd-in-a-container.md measured: in cgroups of its
own (a pure cgroup2 tree inside, so the BPF-based directives work), not
registered, with the host's network (services inside reach the host's
PostgreSQL and Redis on 127.0.0.1), a volatile overlay over the cached image,
and every command run inside through nsenter. Only the standard library is
used; every external call has a timeout; power_off() (also on __exit__ and on
SIGTERM) kills what does not stop and removes the cgroups.

    with Container(image, binds_ro=[venv], binds_rw=[instance]) as c:
        c.install_tree(destdir)            # a "meson install --destdir" tree
        c.systemctl("start", "nautobot-verifyd.service")
        print(c.show("nautobot-verifyd.service", ["MainPID", "StatusText"]))
        print(c.journal("-t", "nautobot-verifyd"))
"""

import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time

CGROUP_ROOTS = ("/sys/fs/cgroup/unified", "/sys/fs/cgroup/systemd")
PROPAGATE_DIR = "/run/systemd/nspawn/propagate"
INSIDE_ENV = ["env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
              "LANG=C.UTF-8", "SYSTEMD_PAGER=", "SYSTEMD_COLORS=0", "SYSTEMD_LOG_COLOR=0"]


class ContainerError(RuntimeError):
    pass


def why_not_available():
    """None when this machine can boot a container, else the reason (for a skip)."""
    if os.geteuid() != 0:
        return "not root: systemd-nspawn, nsenter and cgroup set-up need root"
    for tool in ("systemd-nspawn", "nsenter"):
        if not shutil.which(tool):
            return f"{tool} is not installed (tests/testbed/install-deps installs systemd-container, util-linux)"
    for root in CGROUP_ROOTS:
        if not os.path.isdir(root):
            return f"no {root}: the harness needs the host's hybrid cgroup layout"
    return None


def _run_host(argv, timeout, input=None, check=True, text=True):
    """Runs a host command in its own process group; kills the group on timeout."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(input=input, timeout=timeout)
    except subprocess.TimeoutExpired:
        _killpg(proc.pid)
        out, err = proc.communicate()
        raise ContainerError(f"timed out after {timeout} s: {' '.join(argv)}\n{err.decode(errors='replace')[-2000:]}")
    result = subprocess.CompletedProcess(argv, proc.returncode, out.decode(errors="replace") if text else out,
                                         err.decode(errors="replace"))
    if check and result.returncode != 0:
        raise ContainerError(f"exit {result.returncode}: {' '.join(argv)}\n"
                             f"stdout: {result.stdout[-2000:]}\nstderr: {result.stderr[-2000:]}")
    return result


def _killpg(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _wait_until(predicate, timeout, what, interval=0.1):
    """Polls predicate() until it returns a true value (returned) or timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise ContainerError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class Container:
    """One booted container. Construct, then start() (or use as a context manager)."""

    def __init__(self, image, binds_ro=(), binds_rw=(), name=None, boot_timeout=60.0,
                 log_dir=None, private_network=False):
        self.image = image
        self.private_network = private_network  # a network namespace of its own, only lo
        self.binds_ro = [os.path.abspath(p) for p in binds_ro]
        self.binds_rw = [os.path.abspath(p) for p in binds_rw]
        self.name = name or f"nvd-{os.getpid()}-{secrets.token_hex(3)}"
        self.boot_timeout = boot_timeout
        self.log_dir = log_dir or tempfile.mkdtemp(prefix=f"{self.name}-")
        self.console_log = os.path.join(self.log_dir, "console.log")
        self.nspawn = None
        self.leader = None
        self.timings = {}
        self._prev_sigterm = None

    # --- life cycle ---------------------------------------------------------
    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.power_off()
        return False

    def _cgroups(self):
        return [os.path.join(root, self.name) for root in CGROUP_ROOTS]

    def start(self):
        """Boots the container and waits until systemd says running or degraded."""
        if not os.path.isfile(os.path.join(self.image, "lib/systemd/systemd")) and \
                not os.path.isfile(os.path.join(self.image, "usr/lib/systemd/systemd")):
            raise ContainerError(f"{self.image} is not a bootable image (no lib/systemd/systemd)")
        for path in self.binds_ro + self.binds_rw:
            if not os.path.exists(path):
                raise ContainerError(f"cannot bind {path} into the container: it does not exist")
        # SIGTERM (meson's test timeout) must still power the container off.
        self._prev_sigterm = signal.signal(signal.SIGTERM, _raise_system_exit)
        t0 = time.monotonic()
        cgroups = self._cgroups()
        for cg in cgroups:
            os.makedirs(cg, exist_ok=True)
        argv = ["systemd-nspawn", "-D", self.image, "-M", self.name, "--boot",
                "--register=no", "--keep-unit", "--link-journal=no", "--console=read-only",
                "--system-call-filter=bpf", "--volatile=overlay"]
        if self.private_network:
            argv.append("--private-network")
        argv += [f"--bind-ro={p}:{p}" for p in self.binds_ro]
        argv += [f"--bind={p}:{p}" for p in self.binds_rw]
        env = dict(os.environ, SYSTEMD_NSPAWN_UNIFIED_HIERARCHY="1")

        def enter_cgroups():  # in the child, before exec: nspawn starts in our cgroups
            for cg in cgroups:
                with open(os.path.join(cg, "cgroup.procs"), "w") as f:
                    f.write(str(os.getpid()))

        log = open(self.console_log, "wb")
        try:
            self.nspawn = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                           stderr=subprocess.STDOUT, env=env,
                                           preexec_fn=enter_cgroups, start_new_session=True)
        finally:
            log.close()
        try:
            self.leader = _wait_until(self._find_leader, self.boot_timeout, "the container's systemd to start")
            state = _wait_until(self._booted, self.boot_timeout, "systemctl is-system-running to say running/degraded")
        except BaseException:
            self.power_off()
            raise
        self.timings["boot"] = time.monotonic() - t0
        self.boot_state = state
        return self

    def _check_alive(self):
        if self.nspawn.poll() is not None:
            raise ContainerError(f"systemd-nspawn exited with {self.nspawn.returncode} during boot; "
                                 f"console: {self.console_tail()}")

    def _find_leader(self):
        self._check_alive()
        try:
            with open(f"/proc/{self.nspawn.pid}/task/{self.nspawn.pid}/children") as f:
                children = f.read().split()
        except OSError:
            return None
        for pid in children:
            try:
                with open(f"/proc/{pid}/comm") as f:
                    if f.read().strip() == "systemd":
                        return int(pid)
            except OSError:
                pass
        return None

    def _booted(self):
        self._check_alive()
        r = self.run(["systemctl", "is-system-running"], timeout=10, check=False)
        state = r.stdout.strip()
        return state if state in ("running", "degraded") else None

    def console_tail(self, n=4000):
        try:
            with open(self.console_log, "rb") as f:
                return f.read()[-n:].decode(errors="replace")
        except OSError:
            return ""

    def power_off(self, timeout=60.0):
        """systemctl poweroff; SIGKILL on timeout; always removes cgroups and propagate dir."""
        t0 = time.monotonic()
        try:
            if self.nspawn is not None and self.nspawn.poll() is None:
                if self.leader:
                    try:
                        self.run(["systemctl", "--no-block", "poweroff"], timeout=10, check=False)
                    except ContainerError:
                        pass
                try:
                    self.nspawn.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self._kill_all()
                    self.nspawn.wait(timeout=30)
            self._kill_all()
        finally:
            self._remove_cgroups()
            shutil.rmtree(os.path.join(PROPAGATE_DIR, self.name), ignore_errors=True)
            if self._prev_sigterm is not None:
                signal.signal(signal.SIGTERM, self._prev_sigterm)
                self._prev_sigterm = None
            if self.nspawn is not None:
                self.timings["poweroff"] = time.monotonic() - t0
            self.nspawn = None
            self.leader = None

    def _cgroup_pids(self):
        pids = set()
        for cg in self._cgroups():
            for top, _dirs, files in os.walk(cg):
                if "cgroup.procs" in files:
                    try:
                        with open(os.path.join(top, "cgroup.procs")) as f:
                            pids.update(int(p) for p in f.read().split())
                    except OSError:
                        pass
        return pids

    def _kill_all(self):
        if self.nspawn is not None and self.nspawn.poll() is None:
            _killpg(self.nspawn.pid)
        deadline = time.monotonic() + 20
        while True:
            pids = self._cgroup_pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if time.monotonic() > deadline:
                raise ContainerError(f"processes {sorted(pids)} of container {self.name} survive SIGKILL")
            time.sleep(0.1)

    def _remove_cgroups(self):
        for cg in self._cgroups():
            if not os.path.isdir(cg):
                continue
            # depth-first: a cgroup can only be removed once its children are
            for top, dirs, _files in os.walk(cg, topdown=False):
                deadline = time.monotonic() + 10
                while True:
                    try:
                        os.rmdir(top)
                        break
                    except FileNotFoundError:
                        break
                    except OSError:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.1)

    # --- running things inside ---------------------------------------------
    def run(self, argv, timeout=60.0, check=True, input=None, env=None):
        """Runs argv inside (all namespaces of PID 1, a clean environment).

        Returns a CompletedProcess with text stdout/stderr; raises ContainerError on a
        non-zero exit (check=True) or a timeout (the command is killed)."""
        if not self.leader:
            raise ContainerError(f"container {self.name} is not running")
        extra = [f"{k}={v}" for k, v in (env or {}).items()]
        data = input.encode() if isinstance(input, str) else input
        return _run_host(["nsenter", "-t", str(self.leader), "-a", *INSIDE_ENV, *extra, *argv],
                         timeout, input=data, check=check)

    def systemctl(self, *args, timeout=120.0, check=True):
        return self.run(["systemctl", *args], timeout=timeout, check=check)

    def show(self, unit, props):
        """systemctl show UNIT -p P1,P2 as a dict (values as text)."""
        r = self.systemctl("show", unit, "-p", ",".join(props), timeout=30)
        out = {}
        for line in r.stdout.splitlines():
            key, sep, value = line.partition("=")
            if sep:
                out[key] = value
        return out

    def journal(self, *args, timeout=30.0):
        """journalctl -o json inside, ARGS added; a list of entries (dicts)."""
        r = self.run(["journalctl", "--no-pager", "-o", "json", *args], timeout=timeout, check=False)
        if r.returncode not in (0, 1):
            raise ContainerError(f"journalctl {' '.join(args)} failed: {r.stderr}")
        return [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]

    def wait_until(self, predicate, timeout, what, interval=0.2):
        """Polls predicate() with a deadline; returns its first true value."""
        return _wait_until(predicate, timeout, what, interval)

    def wait_active(self, unit, timeout=60.0):
        def state():
            s = self.show(unit, ["ActiveState", "SubState", "Result"])
            if s.get("ActiveState") == "failed":
                raise ContainerError(f"{unit} failed ({s}):\n{self.unit_log(unit)}")
            return s.get("ActiveState") == "active"
        self.wait_until(state, timeout, f"{unit} to become active")

    def unit_log(self, unit, lines=40):
        r = self.run(["journalctl", "--no-pager", "-u", unit, "-n", str(lines)], timeout=30, check=False)
        return r.stdout

    # --- files --------------------------------------------------------------
    def write_file(self, path, content, mode=0o644, owner="root:root"):
        """Writes content to path inside (parents created), atomically."""
        data = content.encode() if isinstance(content, str) else content
        self.run(["sh", "-c", 'mkdir -p "${1%/*}" && cat >"$1.nvd-tmp" && chmod "$2" "$1.nvd-tmp" && '
                  'chown "$3" "$1.nvd-tmp" && mv -f "$1.nvd-tmp" "$1"', "sh", path, f"{mode:o}", owner],
                 input=data, timeout=30)

    def drop_in(self, unit, name, content):
        """/etc/systemd/system/UNIT.d/NAME.conf (call daemon_reload() after)."""
        self.write_file(f"/etc/systemd/system/{unit}.d/{name}.conf", content)

    def daemon_reload(self):
        self.systemctl("daemon-reload", timeout=60)

    def install_tree(self, destdir, reload=True):
        """Copies a "meson install --destdir" tree into the container's / (directory
        symlinks like /lib -> usr/lib are kept), then systemctl daemon-reload."""
        if not os.path.isdir(destdir):
            raise ContainerError(f"{destdir} is not a directory")
        tar = _run_host(["tar", "-C", destdir, "--owner=root", "--group=root", "-cf", "-", "."],
                        timeout=60, text=False)
        self.run(["tar", "-xf", "-", "-C", "/", "--keep-directory-symlink"], input=tar.stdout, timeout=60)
        if reload:
            self.daemon_reload()


def _raise_system_exit(signum, _frame):
    raise SystemExit(128 + signum)
