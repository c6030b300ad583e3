# SPDX-License-Identifier: LGPL-2.1-or-later
"""The documentation follows the check table (lib/checks/check.c).

The table's checks are what "nautobot-verifyd --check-config" enables by
default ([checks] enable=, printed from the table in its order). Each place
that lists the checks must list exactly those:

  --help-of PROG   the "Checks" block of PROGRAM --help (a heading line that
                   starts with "Checks", then the names: comma-separated, or
                   one a line with a description)
  --page SCD       the definition list of a manual page (*name* on a line of
                   its own, its description indented by a tab)
  --conf-page SCD  the conf(5) page's *enable=* paragraph (and its "all nine")
  --table MD       the Markdown table whose rows start with | `name` |
  --fields MD      the values of NVD_CHECK that docs/reports.md lists

A check the table has and a document lacks, or the other way round, is
named with the document. Exit 0 when every document agrees, 1 otherwise.

Usage: test_check_docs.py --daemon NAUTOBOT-VERIFYD [--help-of PROGRAM]...
           [--page SCD]... [--conf-page SCD]... [--table MD]... [--fields MD]...
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "COLUMNS": "80"}
NAME = r"[a-z][a-z0-9-]*"
NUMBERS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
           "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen"]


def table_checks(daemon):
    """The check table's names, in its order, from --check-config's enable= default."""
    with tempfile.TemporaryDirectory(prefix="nvd-check-docs-") as tmp:
        conf = os.path.join(tmp, "empty.conf")
        with open(conf, "w") as f:
            # A probe= that exists: a binary of the build tree has no installed probe.
            f.write(f"[nautobot]\nprobe = {os.path.abspath(__file__)}\n")
        p = subprocess.run([daemon, "--check-config", "-c", conf], capture_output=True, text=True,
                           timeout=30, env=ENV)
    if p.returncode != 0:
        sys.exit(f"{daemon} --check-config failed ({p.returncode}): {p.stderr}")
    section = None
    for line in p.stdout.splitlines():
        m = re.match(r"^\[([a-z]+)\]", line)
        if m:
            section = m.group(1)
        m = re.match(r"^enable\s*=\s*([^;]*)", line)
        if section == "checks" and m:
            names = [n.strip() for n in m.group(1).split(",") if n.strip()]
            if names:
                return names
    sys.exit(f"{daemon} --check-config printed no [checks] enable=:\n{p.stdout}")


def names_of_list(text):
    """'versions, system and jobs (see x).' → its names: each item's first word."""
    text = re.sub(r"\([^)]*\)", "", text)
    names = []
    for item in re.split(r",|;|\band\b|\bor\b|\n", text):
        m = re.match(rf"^\s*[*`'\"]?({NAME})\b", item)
        if m:
            names.append(m.group(1))
    return names


def help_checks(program):
    """The names in PROGRAM --help's block that starts with a "Checks" heading."""
    p = subprocess.run([program, "--help"], capture_output=True, text=True, timeout=30, env=ENV)
    lines = p.stdout.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^ {0,2}(?:The )?Checks\b[^:]*:(.*)$", line, re.IGNORECASE)
        if not m:
            continue
        block = [m.group(1)] if m.group(1).strip() else []
        for nxt in lines[i + 1:]:
            # A blank line or the next heading ("Options:") ends it.
            if not nxt.strip() or re.match(r"^\S.*:\s*$", nxt):
                break
            block.append(nxt)
        # One a line, a description in a column beside it: the names are the first words
        # of the least indented lines (a description's own lines are indented further).
        described = [len(x) - len(x.lstrip()) for x in block
                     if re.match(rf"^\s*{NAME}\s{{2,}}\S", x)]
        if len(described) >= 2:
            indent = min(described)
            return [x.split()[0] for x in block if len(x) - len(x.lstrip()) == indent
                    and re.match(rf"^\s*{NAME}(\s{{2,}}|$)", x)]
        return names_of_list("\n".join(block))
    return []


def page_checks(path):
    """The definition-list items *name* of a manual page whose description follows
    indented by a tab (options start with -, exit statuses are digits)."""
    with open(path) as f:
        lines = f.read().splitlines()
    return [m.group(1) for i, line in enumerate(lines[:-1])
            if (m := re.match(rf"^\*({NAME})\*\s*$", line)) and lines[i + 1].startswith("\t")]


def conf_page_checks(path, problems):
    """The bold names of *enable=*'s paragraph before its "Default:"; its "all N" counted."""
    with open(path) as f:
        text = f.read()
    m = re.search(r"^\*enable=\*[^\n]*\n((?:\t[^\n]*\n)+)", text, re.MULTILINE)
    if not m:
        return []
    paragraph = m.group(1)
    listed, _, default = paragraph.partition("Default:")
    names = re.findall(rf"\*({NAME})\*", listed)
    count = re.search(r"\ball (\w+)", default)
    if count and count.group(1) in NUMBERS and NUMBERS.index(count.group(1)) != len(names):
        problems.append(f'{path} (enable=): says "all {count.group(1)}" of {len(names)} checks')
    return names


def markdown_table_checks(path):
    """The rows | `name` | of the first Markdown table made of them."""
    with open(path) as f:
        lines = f.read().splitlines()
    names, started = [], False
    for line in lines:
        m = re.match(rf"^\|\s*`({NAME})`\s*\|", line)
        if m:
            names.append(m.group(1))
            started = True
        elif started and not line.startswith("|"):
            break
    return names


def fields_checks(path):
    """The values `NVD_CHECK` (`a`, `b`, ..., `summary`) lists, but summary."""
    with open(path) as f:
        text = f.read()
    m = re.search(r"`NVD_CHECK`\s*\(([^)]*)\)", text)
    if not m:
        return []
    return [n for n in re.findall(rf"`({NAME})`", m.group(1)) if n != "summary"]


def compare(where, found, table, problems):
    missing = [n for n in table if n not in found]
    extra = [n for n in found if n not in table]
    if not found:
        problems.append(f"{where}: lists no checks (the table has {len(table)}: "
                        f"{', '.join(table)})")
        return
    if missing:
        problems.append(f"{where}: missing {', '.join(missing)}")
    if extra:
        problems.append(f"{where}: lists {', '.join(extra)}, which the check table does not have")
    twice = sorted({n for n in found if found.count(n) > 1})
    if twice:
        problems.append(f"{where}: lists {', '.join(twice)} more than once")
    if not missing and not extra and not twice:
        print(f"ok: {where}: the {len(table)} checks")


def main():
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--daemon", required=True)
    ap.add_argument("--help-of", dest="helps", action="append", default=[], metavar="PROGRAM")
    ap.add_argument("--page", action="append", default=[])
    ap.add_argument("--conf-page", action="append", default=[])
    ap.add_argument("--table", action="append", default=[])
    ap.add_argument("--fields", action="append", default=[])
    args = ap.parse_args()

    table = table_checks(args.daemon)
    print(f"the check table ({args.daemon} --check-config): {', '.join(table)}")
    problems = []
    for program in args.helps:
        compare(f"{os.path.basename(program)} --help (its Checks block)", help_checks(program),
                table, problems)
    for path in args.page:
        compare(f"{path} (the list of checks)", page_checks(path), table, problems)
    for path in args.conf_page:
        compare(f"{path} (enable=)", conf_page_checks(path, problems), table, problems)
    for path in args.table:
        compare(f"{path} (the table of checks)", markdown_table_checks(path), table, problems)
    for path in args.fields:
        compare(f"{path} (the values of NVD_CHECK)", fields_checks(path), table, problems)
    for p in problems:
        print(f"NOT OK: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
