# SPDX-License-Identifier: LGPL-2.1-or-later
"""The floors of lib/ (docs/architecture.md, "Layers"), bottom to top:

    basic < parse < sys < checks

A file may include the headers of its own floor and of the floors below it,
never one of a floor above. Includes are flat (#include "util.h", the
include directories of lib/meson.build), so a header's name says which file
it is: it must be unique across lib/, and every quoted include of lib/ must
name a header of lib/. A folder of lib/ holding C files that is not a floor
is an error too (a new floor takes its place in FLOORS first).

Each violation is printed as file:line and the test fails. Before reading the
tree, the checker is run on a small tree of its own with one upward include,
which it must refuse, so that it cannot pass by finding nothing.

Usage: test_layers.py LIBDIR
"""

import os
import re
import sys
import tempfile

FLOORS = ["basic", "parse", "sys", "checks"]
INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
SOURCE_EXTENSIONS = (".c", ".h")


def sources(libdir):
    """(floor or the folder's name, path) of every C file under libdir."""
    for top in sorted(os.listdir(libdir)):
        folder = os.path.join(libdir, top)
        if not os.path.isdir(folder):
            continue
        for root, dirs, files in os.walk(folder):
            dirs.sort()
            for name in sorted(files):
                if name.endswith(SOURCE_EXTENSIONS):
                    yield top, os.path.join(root, name)


def check(libdir):
    """The violations in libdir, as "file:line: reason" strings."""
    errors, floor_of, where = [], {}, {}
    shown = os.path.dirname(os.path.abspath(libdir))

    def rel(path):
        """lib/parse/x.c, as a reader finds it."""
        return os.path.relpath(path, shown)

    files = list(sources(libdir))
    for top, path in files:
        if top not in FLOORS:
            errors.append(f"{rel(path)}:1: lib/{top}/ is not a floor ({' < '.join(FLOORS)}); "
                          "give it its place in tests/unit/test_layers.py and docs/architecture.md")
            continue
        if path.endswith(".h"):
            name = os.path.basename(path)
            if name in floor_of:
                errors.append(f"{rel(path)}:1: a second {name} (the first: {rel(where[name])}): "
                              "includes are flat, a header's name must be unique in lib/")
                continue
            floor_of[name], where[name] = top, path
    for top, path in files:
        if top not in FLOORS:
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, 1):
                m = INCLUDE_RE.match(line)
                if not m:
                    continue
                header = m.group(1)
                target = floor_of.get(os.path.basename(header))
                if target is None:
                    errors.append(f"{rel(path)}:{number}: includes \"{header}\", which is no "
                                  "header of lib/ (quoted includes name lib/'s own headers)")
                elif FLOORS.index(target) > FLOORS.index(top):
                    errors.append(f"{rel(path)}:{number}: includes \"{header}\" of lib/{target}/, "
                                  f"a floor above lib/{top}/ ({' < '.join(FLOORS)})")
    return errors


def self_test():
    """The checker refuses an upward include and accepts a downward one."""
    with tempfile.TemporaryDirectory(prefix="nvd-layers-") as tmp:
        lib = os.path.join(tmp, "lib")
        tree = {
            "basic/util.h": "#pragma once\n",
            "parse/envfile.h": '#pragma once\n#include "util.h"\n',
            "sys/chase.h": "#pragma once\n",
            "parse/envfile.c": '#include "envfile.h"\n\n#include "chase.h"\n',
        }
        for name, text in tree.items():
            os.makedirs(os.path.dirname(os.path.join(lib, name)), exist_ok=True)
            with open(os.path.join(lib, name), "w") as f:
                f.write(text)
        errors = check(lib)
        expected = ['lib/parse/envfile.c:3: includes "chase.h" of lib/sys/, a floor above lib/parse/']
        if [e.split(" (")[0] for e in errors] != expected:
            print(f"self-test: expected {expected}, got {errors}")
            return False
    return True


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1])
        return 2
    if not self_test():
        return 1
    errors = check(sys.argv[1])
    for e in errors:
        print(e)
    if errors:
        print(f"{len(errors)} include(s) break the floors of lib/")
        return 1
    print(f"ok: every #include under {sys.argv[1]} keeps to its floor ({' < '.join(FLOORS)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
