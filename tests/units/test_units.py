#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The systemd units as built, checked with systemd's own tools.

Usage: test_units.py --daemon BUILT-DAEMON UNIT-FILE...

The unit files are meson's configure_file output (ExecStart= names the
*installed* daemon). Copies go to a temporary directory with ExecStart= pointed
at the built daemon, because "systemd-analyze verify" fails when the binary
does not exist. User=nautobot stays: systemd 252's verify does not resolve
users, and the test must not need one. Any systemd-analyze message about our
units fails the test (verify only warns, with exit status 0, about unknown keys,
system call groups or address families, i.e. silently dropped hardening).

Exit status: 0 passed, 1 failed, 77 skipped (systemd-analyze not installed).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

MAX_EXPOSURE = 2.0
WATCH = 'nautobot-verifyd.service'
CHECK = 'nautobot-verifyd-check.service'
PATH = 'nautobot-verifyd-check.path'
TIMER = 'nautobot-verifyd-check.timer'
SERVICES = (WATCH, CHECK)
PLAIN_UNITS = (WATCH, CHECK, PATH, TIMER)
# The same units as templates, for several Nautobots on one host (--instance=%i),
# and an instance of each for systemd-analyze (it loads instances, not templates).
TEMPLATE = {n: n.replace('.', '@.', 1) for n in PLAIN_UNITS}
INSTANCE = {n: n.replace('.', '@two.', 1) for n in PLAIN_UNITS}
ALL_UNITS = PLAIN_UNITS + tuple(TEMPLATE.values())
SPDX = '# SPDX-License-Identifier: LGPL-2.1-or-later'
# [Service] settings that may differ between the two services; the rest (user,
# credentials, state directory, sandbox) must agree, or one of them drifted.
PER_SERVICE = {'Type', 'ExecStart', 'ExecReload', 'WatchdogSec', 'Restart', 'RestartSec',
               'RestartPreventExitStatus', 'TimeoutStartSec'}
# A later systemd might resolve User=/Group= in verify; a missing nautobot
# account on the build machine says nothing about the unit. Only a message
# naming the account (not our nautobot-verifyd* units) is excused.
ACCOUNT = r'(?<![\w/-])nautobot(?![\w.-])'
NOT_THERE = r'(not found|does not exist|no such|failed to resolve|unknown)'
MISSING_ACCOUNT = re.compile(rf'\b(user|group)\b.*{ACCOUNT}.*\b{NOT_THERE}\b'
                             rf'|\b(failed to resolve|unknown) (user|group)\b.*{ACCOUNT}',
                             re.IGNORECASE)
EXPOSURE = re.compile(r'Overall exposure level for (\S+): (\d+(?:\.\d+)?)')
ANSI = re.compile(r'\x1b\[[0-9;]*m')

ARGS = None


def parse_unit(path):
    """{section: [(key, value), ...]} in file order; repeated keys kept."""
    sections, current = {}, None
    with open(path, encoding='utf-8') as f:
        for raw in f:
            line = raw.strip()
            if not line or line[0] in '#;':
                continue
            if line.startswith('[') and line.endswith(']'):
                current = sections.setdefault(line[1:-1], [])
                continue
            key, sep, value = line.partition('=')
            if not sep or current is None:
                raise ValueError(f'{path}: not a key=value line in a section: {line!r}')
            current.append((key.strip(), value.strip()))
    return sections


def values(sections, section, key):
    return [v for k, v in sections.get(section, []) if k == key]


def run(argv, **kwargs):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       env=dict(os.environ, SYSTEMD_COLORS='0', SYSTEMD_PAGER='', LC_ALL='C'),
                       check=False, **kwargs)
    return p.returncode, ANSI.sub('', p.stdout)


class UnitFiles(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.built = {os.path.basename(p): p for p in ARGS.units}
        cls.tmp = tempfile.mkdtemp(prefix='nvd-units-')
        cls.copies = {}
        for name, path in cls.built.items():
            with open(path, encoding='utf-8') as f:
                text = f.read()
            text = re.sub(r'^(ExecStart=[-+!@:]*)\S*/nautobot-verifyd(?=\s|$)',
                          lambda m: m.group(1) + ARGS.daemon, text, flags=re.MULTILINE)
            plain = next((p for p, t in TEMPLATE.items() if t == name), None)
            copy = INSTANCE[plain] if plain else name
            cls.copies[name] = os.path.join(cls.tmp, copy)
            with open(cls.copies[name], 'w', encoding='utf-8') as f:
                f.write(text)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_all_units_built(self):
        self.assertEqual(sorted(self.built), sorted(ALL_UNITS))

    def test_templates_substituted(self):
        for name, path in self.built.items():
            with self.subTest(unit=name), open(path, encoding='utf-8') as f:
                text = f.read()
                self.assertIsNone(re.search(r'@[A-Za-z0-9_]+@', text),
                                  f'{name} has an unsubstituted @placeholder@')
                self.assertEqual(text.splitlines()[0], SPDX)

    def test_exec_start_is_installed_daemon(self):
        # The built file must name an absolute installed path, not the build tree.
        for name in SERVICES + tuple(TEMPLATE[n] for n in SERVICES):
            with self.subTest(unit=name):
                starts = values(parse_unit(self.built[name]), 'Service', 'ExecStart')
                self.assertEqual(len(starts), 1, starts)
                binary = starts[0].split()[0]
                self.assertTrue(binary.startswith('/') and binary.endswith('/nautobot-verifyd'),
                                binary)
                self.assertNotIn(os.path.dirname(ARGS.daemon), binary)
                mode = '--watch' if name in (WATCH, TEMPLATE[WATCH]) else '--if-changed'
                self.assertIn(mode, starts[0].split())

    def test_template_instance(self):
        # nautobot-verifyd@NAME.service: its own configuration, credentials and state.
        for plain in SERVICES:
            with self.subTest(unit=TEMPLATE[plain]):
                unit = parse_unit(self.built[TEMPLATE[plain]])
                argv = values(unit, 'Service', 'ExecStart')[0].split()
                self.assertIn('--instance=%i', argv)
                self.assertEqual(argv[argv.index('-c') + 1],
                                 '/etc/nautobot-verifyd/%i/nautobot-verifyd.conf')
                self.assertEqual(values(unit, 'Service', 'LoadCredential'),
                                 ['web-password:/etc/nautobot-verifyd/%i/web-password',
                                  'api-token:/etc/nautobot-verifyd/%i/api-token'])
                # Apart from those, the template is the plain unit: one source, no drift.
                differs = {'ExecStart', 'LoadCredential', 'Description'}
                for section in ('Unit', 'Service', 'Install'):
                    self.assertEqual(
                        [kv for kv in parse_unit(self.built[plain]).get(section, []) if kv[0] not in differs],
                        [kv for kv in unit.get(section, []) if kv[0] not in differs])
        # The daemon takes the instance the unit gives it, and refuses a bad one.
        with tempfile.NamedTemporaryFile('w', suffix='.conf') as conf:
            # probe= names a file that exists (the build tree's binary has no installed probe).
            conf.write(f'[nautobot]\nserver = /bin/true\nprobe = {conf.name}\n')
            conf.flush()
            p = subprocess.run([ARGS.daemon, '--check-config', '-c', conf.name, '--instance=two'],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
            self.assertEqual(p.returncode, 0, p.stdout)
            self.assertRegex(p.stdout, r'(?m)^instance = two ;')
            p = subprocess.run([ARGS.daemon, '--check-config', '-c', conf.name, '--instance=../x'],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
            self.assertEqual(p.returncode, 78, p.stdout)
            self.assertIn("'../x' is not an instance name", p.stdout)

    def test_verify(self):
        # The four of a flavour at once: the .path and .timer then find the check service.
        for flavour in (PLAIN_UNITS, tuple(TEMPLATE.values())):
            with self.subTest(units=flavour[0]):
                self.verify_units([self.copies[n] for n in flavour])

    def verify_units(self, paths):
        # --man=no: the Documentation= pages are installed with the units, not here.
        rc, out = run(['systemd-analyze', 'verify', '--man=no', *paths])
        print(f'systemd-analyze verify: exit status {rc}')
        ours, notes = [], []
        for line in out.splitlines():
            if not line.strip():
                continue
            if MISSING_ACCOUNT.search(line):
                notes.append(line)
            elif self.tmp in line or any(n in line for n in ALL_UNITS + tuple(INSTANCE.values())):
                ours.append(line)
            else:
                notes.append(line)
        for line in notes:
            print(f'  note (not about our units): {line}')
        for line in ours:
            print(f'  ERROR: {line}')
        self.assertEqual(rc, 0, f'systemd-analyze verify failed:\n{out}')
        self.assertEqual(ours, [], 'systemd-analyze verify complained about our units')

    def test_triggers_start_check_service(self):
        # verify says nothing when Unit= names a unit that does not exist.
        for name, section, check in ((PATH, 'Path', CHECK), (TIMER, 'Timer', CHECK),
                                     (TEMPLATE[PATH], 'Path', 'nautobot-verifyd-check@%i.service'),
                                     (TEMPLATE[TIMER], 'Timer', 'nautobot-verifyd-check@%i.service')):
            with self.subTest(unit=name):
                units = values(parse_unit(self.built[name]), section, 'Unit')
                self.assertEqual(units, [check])
        self.assertTrue(values(parse_unit(self.built[PATH]), 'Path', 'PathChanged'))
        self.assertEqual(values(parse_unit(self.built[CHECK]), 'Install', 'WantedBy'), [])

    def test_services_share_sandbox(self):
        # In file order: SystemCallFilter= lines apply in sequence.
        def pick(sections, section, keep):
            return [(k, v) for k, v in sections.get(section, []) if keep(k)]

        watch, check = (parse_unit(self.built[n]) for n in SERVICES)
        for section, keep in (('Unit', lambda k: k in ('Wants', 'After')),
                              ('Service', lambda k: k not in PER_SERVICE)):
            with self.subTest(section=section):
                self.assertEqual(pick(watch, section, keep), pick(check, section, keep))

    def test_security_exposure(self):
        for name in SERVICES + tuple(TEMPLATE[n] for n in SERVICES):
            with self.subTest(unit=name):
                rc, out = run(['systemd-analyze', 'security', '--offline=yes', '--no-pager',
                               self.copies[name]])
                m = EXPOSURE.search(out)
                if rc != 0 or not m:
                    print(out)
                self.assertEqual(rc, 0, f'systemd-analyze security failed:\n{out}')
                self.assertIsNotNone(m, f'no "Overall exposure level" line:\n{out}')
                exposure = float(m.group(2))
                print(f'{name}: overall exposure {exposure:.1f} (limit {MAX_EXPOSURE:.1f})')
                if exposure > MAX_EXPOSURE:
                    print(out)
                self.assertLessEqual(exposure, MAX_EXPOSURE)


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--daemon', required=True, help='the built nautobot-verifyd')
    parser.add_argument('units', nargs='+', help='the built unit files')
    ARGS = parser.parse_args()
    ARGS.daemon = os.path.abspath(ARGS.daemon)
    if not os.access(ARGS.daemon, os.X_OK):
        print(f'FAIL: the built daemon {ARGS.daemon} is not executable')
        return 1
    if shutil.which('systemd-analyze') is None:
        print('SKIP: systemd-analyze is not installed (Debian: apt-get install systemd)')
        return 77
    prog = unittest.main(argv=[sys.argv[0], '-v'], exit=False)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == '__main__':
    sys.exit(main())
