# SPDX-License-Identifier: LGPL-2.1-or-later
"""nautobot-verifyd's probe: what only Django knows, from one Django boot.

Run by nautobot-verifyd as
    nautobot-server shell --no-startup --no-imports -v 0 --command \
        'import os, runpy; runpy.run_path(os.environ["NVD_PROBE"], run_name="nvd_probe")'
with file descriptor 3 open for writing. Django is set up by then (settings,
apps, app configs: an app whose min_version/max_version does not admit the
installed Nautobot has already stopped nautobot-server). It writes one JSON
document to fd 3 and nothing else there; what Nautobot, the apps and their
libraries print goes to stdout/stderr, which the daemon keeps only as
evidence. Every section is answered or carries an "error" ("Type: message");
one section failing never hides the others. Read-only: it changes nothing.

Booted ahead (NVD_PROBE_HOLD: seconds), it waits after Django's set-up for its
questions on stdin: NVD_PROBE_*=VALUE lines, then EOF, which replace the
NVD_PROBE_* variables below; nothing within that time, or EOF alone, and it ends
without an answer (see hold()).

Environment: NVD_PROBE_APP_LABELS (the apps: comma-separated labels, or "*" for
every Nautobot app the server loads, as "apps" lists them), NVD_PROBE_SECTIONS
(what to answer; the others say "not asked for"), NVD_PROBE_DEADLINE
(CLOCK_MONOTONIC microseconds at which the daemon stops the probe; optional).
makemigrations runs in a forked child, in the same process group, beside the
other sections (see forked()); the apps one after the other in that one child.

Format 2 (the daemon's lib/parse/parse-probe.c reads it; a change here is a change there):
  format             2
  nautobot_version   "3.1.6"
  booted_again       only when booted ahead and a file of the code it had loaded was written
                     before its questions came: that file (it then boots again, see hold())
  check              {"exit_status", "stdout", "stderr"} as "nautobot-server check" gives them
  makemigrations     {"<label>": the same for "makemigrations <label> --check --dry-run", ...}:
                     one per app of NVD_PROBE_APP_LABELS (an app not installed: exit status 2,
                     as the command line says it)
  migration_plan     {"unapplied": ["app.name", ...], "applied_not_shipped": ["app.name", ...],
                      "leaves": {"<label>": ["name", ...]}: Django's leaf migration(s) of each app
                        of NVD_PROBE_APP_LABELS in the installed code (what a rollback to this
                        release migrates back to),
                      "reversal": {"<label>": {"<name>": REVERSAL, ...}}: for each migration the
                        installed code ships, what unapplying it destroys (so that a later
                        rollback, with older code installed, still knows)}
                     REVERSAL: {"tables": ["table", ...] (CreateModel reversed: dropped),
                                "columns": [{"table", "column"}, ...] (AddField reversed),
                                "irreversible": ["RunPython populate", ...] (no reverse: the
                                migrate back fails there)}
  rollback           only when asked for (NVD_PROBE_ROLLBACK="<label>:<target>", target a
                     migration name or "zero"): Django's backward plan from the database's
                     state to the target, {"label", "target", "plan": [{"migration": "app.name",
                     "tables": [{"table", "rows"}], "columns": [{"table", "column", "rows"}],
                     "irreversible": [...]}, ...]} in the order migrate unapplies them; "rows"
                     counted on this database in a read-only transaction (null: no such table
                     or column there). With NVD_PROBE_ROLLBACK_FROM (a wheel or a directory
                     holding the older release's <label>/migrations/) and target "-": the
                     target is that release's leaf, read from its files (nothing imported),
                     and "target_from" says where it was read
  apps               [{"label", "name", "package", "version", "min_version", "max_version",
                       "admits_nautobot"}, ...]
  jobs               {"<module>": ["ClassName", ...]}: the Job classes the installed code registers
  panels             {"<label>": [{"name", "weight", "permissions"[, "lacking"]}, ...], ...}:
                     the home-page panels each app declares; "lacking": the permissions of a
                     panel the web account (NVD_PROBE_WEB_USER) has none of, so the home page
                     does not show it that account; one app's may be {"error": ...} alone
  database           {"engine", "host", "port", "name", "user"}: DATABASES["default"]
  cache, broker      {"ok": true} or {"error": ...}
  workers            {"workers": [{"hostname", "pid"}, ...]}: the Celery workers that answer
                     the broker within 1 s (inspect().stats()), at most 64
A section keyed by label that failed as a whole is {"error": "..."}, a string; an app
labelled "error" has an object or a list there.
After the document: a NUL byte and the database password, so that it never
passes through a JSON parser or into a report; the daemon wipes it after use.
"""

import contextlib
import io
import json
import os
import signal
import sys
import time
import traceback

FORMAT = 2
RESULT_FD = 3
RESULT_MAX = 4 * 1024 * 1024  # the daemon's PROBE_RESULT_MAX: what a forked section may answer
DEADLINE_MARGIN = 2.0  # seconds left to write the document when a forked section overstays
QUESTIONS_MAX = 4096  # the daemon's CHILD_SEND_MAX: what it sends a probe booted ahead


def error_text(exc):
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[-1] if lines else ''}".rstrip(": ")


def command(name, *args, **kwargs):
    """call_command() with the command line's exit status and streams."""
    from django.core.management import call_command
    from django.core.management.base import CommandError, SystemCheckError

    out, err = io.StringIO(), io.StringIO()
    status = 0
    try:
        call_command(name, *args, stdout=out, stderr=err, **kwargs)
    except SystemCheckError as e:
        err.write(f"SystemCheckError: {e}\n")
        status = 1
    except CommandError as e:  # what the command line prints and exits 1 (2 for usage) with
        err.write(f"CommandError: {e}\n")
        status = e.returncode if isinstance(getattr(e, "returncode", None), int) else 1
    except SystemExit as e:  # makemigrations --check exits 1 when models changed
        status = e.code if isinstance(e.code, int) else 1
    except Exception:  # noqa: BLE001 - what the command line would die with, traceback and all
        err.write(traceback.format_exc())
        status = 1
    return {"exit_status": status, "stdout": out.getvalue(), "stderr": err.getvalue()}


def makemigrations(label):
    from django.apps import apps

    if not any(a.label == label for a in apps.get_app_configs()):
        # As the command line says it (exit 2, usage error).
        return {"exit_status": 2, "stdout": "", "stderr": f"No installed app with label '{label}'.\n"}
    return command("makemigrations", label, check_changes=True, dry_run=True, interactive=False)


def makemigrations_all(labels):
    """makemigrations --check --dry-run for each app, as one command per app would answer.

    One command for all of them builds the loader, the project state and the
    autodetector once (each costs ~0.9 s of CPU per app otherwise). When it
    finds no change, each app's answer is what its own command prints then;
    when it finds one, each app asks on its own, for the output that names it.
    """
    from django.apps import apps

    known = {a.label for a in apps.get_app_configs()}
    present = [label for label in labels if label in known]
    if len(present) > 1:
        together = command("makemigrations", *present, check_changes=True, dry_run=True, interactive=False)
        if together["exit_status"] == 0 and together["stdout"].startswith("No changes detected in apps ") \
                and not together["stderr"]:
            return {label: {"exit_status": 0, "stdout": f"No changes detected in app '{label}'\n", "stderr": ""}
                    if label in known else makemigrations(label) for label in labels}
    return {label: makemigrations(label) for label in labels}


def migration_plan(asked):
    from django.apps import apps
    from django.db import connections
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connections["default"])
    loader = executor.loader
    plan = executor.migration_plan(loader.graph.leaf_nodes())
    labels = {a.label for a in apps.get_app_configs()}
    shipped = set(loader.disk_migrations) | set(loader.graph.nodes)
    asked = [label for label in asked if label in labels]
    return {
        "unapplied": [f"{m.app_label}.{m.name}" for m, backwards in plan if not backwards],
        # Only apps that are installed: a removed app's rows are another story.
        "applied_not_shipped": sorted(f"{app}.{name}" for app, name in loader.applied_migrations
                                      if app in labels and (app, name) not in shipped),
        "leaves": {label: sorted(name for app, name in loader.graph.leaf_nodes(label)) for label in asked},
        "reversal": {label: {name: reversal(m) for (app, name), m in sorted(loader.disk_migrations.items())
                             if app == label} for label in asked},
    }


def table_of(app_label, model_name, options=None):
    """The table of a model as a migration names it: db_table= of the migration, the loaded
    model's, else Django's default "<app>_<model>"."""
    from django.apps import apps

    if options and options.get("db_table"):
        return options["db_table"]
    try:
        return apps.get_model(app_label, model_name)._meta.db_table
    except LookupError:
        return f"{app_label}_{model_name.lower()}"


def field_undo(app_label, model_table, name, field, tables, columns):
    """What dropping field 'name' of a model (table model_table) destroys."""
    if getattr(field, "many_to_many", False):
        through = getattr(field.remote_field, "through", None)
        if not through:  # Django's own join table: "<model table>_<field>"
            tables.append(f"{model_table}_{name}")
        return
    f = field.clone()
    f.set_attributes_from_name(name)
    if f.column:
        columns.append({"table": model_table, "column": f.column})


def reversal(migration):
    """What unapplying 'migration' destroys, from its operations alone (nothing imported)."""
    from django.db.migrations import operations as ops

    tables, columns, irreversible = [], [], []

    def walk(operations):
        for op in operations:
            if isinstance(op, ops.SeparateDatabaseAndState):
                walk(op.database_operations)
            elif isinstance(op, ops.CreateModel):
                table = table_of(migration.app_label, op.name, op.options)
                tables.append(table)
                for name, field in op.fields:
                    if getattr(field, "many_to_many", False):
                        field_undo(migration.app_label, table, name, field, tables, columns)
            elif isinstance(op, ops.AddField):
                field_undo(migration.app_label, table_of(migration.app_label, op.model_name), op.name,
                           op.field, tables, columns)
            elif isinstance(op, ops.RunPython) and not op.reversible:
                irreversible.append(f"RunPython {getattr(op.code, '__name__', '?')}")
            elif isinstance(op, ops.RunSQL) and not op.reversible:
                irreversible.append("RunSQL " + " ".join(str(op.sql).split())[:80])
            elif not getattr(op, "reversible", True):
                irreversible.append(type(op).__name__)

    walk(migration.operations)
    return {"tables": tables, "columns": columns, "irreversible": irreversible}


def leaf_from_files(source, label):
    """The leaf migration(s) of 'label' in another release's files (a wheel or a directory
    holding <label>/migrations/): read, never imported (it is not the installed code)."""
    import ast
    import re
    import zipfile

    files = {}
    pattern = re.compile(rf"(?:^|/){re.escape(label)}/migrations/([0-9][^/]*)\.py$")
    if zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as z:
            for n in z.namelist():
                m = pattern.search(n)
                if m:
                    files[m.group(1)] = z.read(n).decode()
    else:
        # <source>/<label>/migrations (site-packages, an unpacked wheel) or <source>/migrations.
        for d in (os.path.join(source, label, "migrations"), os.path.join(source, "migrations")):
            if os.path.isdir(d):
                for n in os.listdir(d):
                    if re.fullmatch(r"[0-9][^/]*\.py", n):
                        with open(os.path.join(d, n)) as f:
                            files[n[:-3]] = f.read()
                break
    if not files:
        raise FileNotFoundError(f"no migrations of {label} in {source}")
    parents = set()
    for text in files.values():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Tuple) and len(node.elts) == 2 and all(
                    isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
                if node.elts[0].value == label:
                    parents.add(node.elts[1].value)
    return sorted(set(files) - parents)


def rows(cursor, table, column=None):
    """Rows of 'table' (where 'column' is not null) on this database; None: no such thing there."""
    from django.db import connection

    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [connection.ops.quote_name(table)])
    if not cursor.fetchone()[0]:
        return None
    if column:
        cursor.execute("SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() "
                       "AND table_name = %s AND column_name = %s", [table, column])
        if not cursor.fetchone()[0]:
            return None
        cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)} "
                       f"WHERE {connection.ops.quote_name(column)} IS NOT NULL")
    else:
        cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
    return cursor.fetchone()[0]


def rollback():
    """Django's backward plan to NVD_PROBE_ROLLBACK's target, and what each step destroys here."""
    from django.db import connection, transaction
    from django.db.migrations.executor import MigrationExecutor

    label, _, target = os.environ.get("NVD_PROBE_ROLLBACK", "").partition(":")
    if not label or not target:
        raise ValueError("NVD_PROBE_ROLLBACK is not <label>:<target>")
    answer = {"label": label}
    if target == "-":
        source = os.environ.get("NVD_PROBE_ROLLBACK_FROM", "")
        leaves = leaf_from_files(source, label)
        if len(leaves) != 1:
            raise ValueError(f"{source} has {len(leaves)} leaf migrations of {label}: {', '.join(leaves)}")
        target, answer["target_from"] = leaves[0], source
    answer["target"] = target
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan([(label, None if target == "zero" else target)])
    steps = []
    # Counted read-only, and whatever happens, rolled back: the probe changes nothing.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION READ ONLY")
        for migration, backwards in plan:
            if not backwards:
                continue
            undo = reversal(migration)
            steps.append({"migration": f"{migration.app_label}.{migration.name}",
                          "tables": [{"table": t, "rows": rows(cursor, t)} for t in undo["tables"]],
                          "columns": [{**c, "rows": rows(cursor, c["table"], c["column"])} for c in undo["columns"]],
                          "irreversible": undo["irreversible"]})
        transaction.set_rollback(True)
    answer["plan"] = steps
    return answer


def nautobot_apps():
    """The Nautobot apps the server loads (PLUGINS), not Nautobot's own."""
    from django.apps import apps
    from nautobot.apps import NautobotAppConfig

    return [a for a in apps.get_app_configs()
            if isinstance(a, NautobotAppConfig) and not a.name.startswith("nautobot.")]


def app_labels(value):
    """NVD_PROBE_APP_LABELS: the labels, in order, once each; "*": every Nautobot app."""
    if value.strip() == "*":
        return [a.label for a in nautobot_apps()]
    labels = [label.strip() for label in value.split(",") if label.strip()]
    if not labels:
        raise ValueError("no app label given")
    return list(dict.fromkeys(labels))


def app_list():
    from importlib.metadata import packages_distributions

    import nautobot
    from packaging.version import Version

    dists = packages_distributions()
    running = Version(nautobot.__version__)
    found = []
    for a in nautobot_apps():
        admits = ((a.min_version is None or running >= Version(a.min_version)) and
                  (a.max_version is None or running <= Version(a.max_version)))
        found.append({"label": a.label, "name": a.name, "package": (dists.get(a.name.split(".")[0]) or [None])[0],
                      "version": getattr(a, "version", None), "min_version": a.min_version,
                      "max_version": a.max_version, "admits_nautobot": admits})
    return found


def job_classes():
    from nautobot.extras.jobs import get_jobs

    by_module = {}
    for path, cls in sorted(get_jobs().items()):
        module, _, name = path.rpartition(".")
        by_module.setdefault(module, []).append(name)
    return by_module


_web_user = []


def web_user():
    """The account the panels check logs in as (NVD_PROBE_WEB_USER), or None."""
    if not _web_user:
        from django.contrib.auth import get_user_model

        name = os.environ.get("NVD_PROBE_WEB_USER")
        _web_user.append(get_user_model().objects.filter(username=name).first() if name else None)
    return _web_user[0]


def panels(label):
    from django.apps import apps

    layout = apps.get_app_config(label).features.get("home_page") or []
    user = web_user()
    out = []
    for p in layout:
        perms = sorted(getattr(p, "permissions", None) or [])
        entry = {"name": p.name, "weight": getattr(p, "weight", None), "permissions": perms}
        # The home page shows a panel to a user with one of its permissions (a superuser: all).
        if user is not None and perms and not any(user.has_perm(x) for x in perms):
            entry["lacking"] = perms
        out.append(entry)
    return out


def database():
    from django.conf import settings

    db = settings.DATABASES["default"]
    return {"engine": db.get("ENGINE", ""), "host": db.get("HOST", ""), "port": str(db.get("PORT", "")),
            "name": db.get("NAME", ""), "user": db.get("USER", "")}


def cache():
    from django.core.cache import cache as c

    c.get("nautobot-verifyd-probe")
    return {"ok": True}


def broker():
    from nautobot.core.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=5)
    return {"ok": True}


WORKERS_MAX = 64


def workers():
    """The Celery workers that answer the broker, with the pid each runs as (on its own host)."""
    from nautobot.core.celery import app

    stats = app.control.inspect(timeout=1.0).stats() or {}
    return {"workers": [{"hostname": str(name), "pid": int(s.get("pid") or 0)}
                        for name, s in sorted(stats.items())[:WORKERS_MAX]]}


def section(fn, *args):
    try:
        return fn(*args)
    except Exception as e:  # noqa: BLE001 - each section answers or says why not
        return {"error": error_text(e)}


def deadline():
    """When the daemon stops us (NVD_PROBE_DEADLINE, CLOCK_MONOTONIC microseconds), less time
    to write the document; None: no limit known (run by hand)."""
    try:
        return int(os.environ["NVD_PROBE_DEADLINE"]) / 1e6 - DEADLINE_MARGIN
    except (KeyError, ValueError):
        return None


def forked(fn):
    """section(fn) in a child process: returns a function that waits for its answer.

    Django is set up; a child shares it copy-on-write, so the slowest section
    (makemigrations: its loader, project state and autodetector, ~0.7 s) runs beside the
    others on a second core, and the probe takes about one boot and that section. The
    answer comes back as JSON through a pipe, at most RESULT_MAX bytes, before deadline();
    a child that dies, overstays or answers nothing readable is the section's "error".
    Where fork() fails, the section runs here.
    """
    try:
        from django.db import connections

        # Neither a database connection nor buffered output may be shared by two processes.
        connections.close_all()
        sys.stdout.flush()
        sys.stderr.flush()
        r, w = os.pipe()  # both close-on-exec
    except Exception:  # noqa: BLE001 - then not in a child
        answer = section(fn)
        return lambda: answer
    try:
        pid = os.fork()
    except OSError:
        os.close(r)
        os.close(w)
        answer = section(fn)
        return lambda: answer
    if pid == 0:
        status = 1
        try:
            os.close(r)
            with contextlib.suppress(OSError):
                os.close(RESULT_FD)  # the parent's to write
            with os.fdopen(w, "wb") as f:
                f.write(json.dumps(section(fn)).encode())
            status = 0
        finally:  # never back into nautobot-server's code: one process writes the document
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(status)
    os.close(w)

    def wait():
        import select

        data, eof, until = bytearray(), False, deadline()
        poller = select.poll()
        poller.register(r, select.POLLIN)
        try:
            while not eof and len(data) <= RESULT_MAX:
                left = None if until is None else until - time.monotonic()
                if (left is not None and left <= 0) or not poller.poll(None if left is None else left * 1000):
                    break
                chunk = os.read(r, 65536)
                data += chunk
                eof = not chunk
        finally:
            os.close(r)
        if not eof:
            os.kill(pid, signal.SIGKILL)
        code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        if len(data) > RESULT_MAX:
            return {"error": f"ValueError: its answer is longer than {RESULT_MAX} bytes"}
        if not eof:
            return {"error": "TimeoutError: no answer before the daemon's deadline"}
        try:
            if code == 0:
                return json.loads(data)
        except ValueError:
            pass
        how = f"signal {-code}" if code < 0 else f"exit status {code}"
        return {"error": f"ChildProcessError: the probe's child for it ended with {how}, without an answer"}

    return wait


def hold():
    """Booted ahead: Django is set up; wait for the questions, then answer them as asked.

    Everything the answer depends on is read after they arrive (the database,
    the broker, the workers); what was done before them is the import of the
    installed code, which the daemon knows has not changed since.
    """
    import select

    end = time.monotonic() + float(os.environ.pop("NVD_PROBE_HOLD"))
    booted = int(os.environ.get("NVD_PROBE_BOOTED", "0")) / 1e6
    data = b""
    while True:
        left = end - time.monotonic()
        if left <= 0 or not select.select([0], [], [], left)[0]:
            sys.exit(0)  # nobody asked in time
        chunk = os.read(0, QUESTIONS_MAX + 1)
        if not chunk:
            break
        data += chunk
        if len(data) > QUESTIONS_MAX:
            sys.exit(0)
    if not data:
        sys.exit(0)  # let go without questions
    for key in [k for k in os.environ if k.startswith("NVD_PROBE_")]:
        del os.environ[key]
    for line in data.decode().splitlines():
        key, sep, value = line.partition("=")
        if sep and key.startswith("NVD_PROBE_"):
            os.environ[key] = value
    # The code it loaded must be the code on disk: a module's file (nautobot_config.py among
    # them) written since the boot began, and the answers are those of a fresh boot.
    changed = written_since(booted)  # no NVD_PROBE_BOOTED: 0, so every file counts
    if changed:
        os.environ["NVD_PROBE_BOOTED_AGAIN"] = changed
        sys.stdout.flush()
        sys.stderr.flush()
        # The command line nautobot-server was started with (runpy has changed sys.argv).
        os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])
    # A connection the set-up opened may have waited minutes: the questions get fresh ones.
    from django.db import connections

    connections.close_all()


def written_since(when):
    """The first file of a loaded module written at or after `when` (seconds), or None."""
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if not isinstance(path, str):
            continue
        try:
            if os.stat(path).st_mtime >= when:
                return path
        except OSError:  # not a file (a zip's member, say): nothing to compare
            continue
    return None


def main():
    import gc

    import nautobot

    if "NVD_PROBE_HOLD" in os.environ:
        hold()

    # What Django's boot built (~400,000 objects) lives until exit. Out of the collector's
    # sight, the full collections that makemigrations' allocations trigger (~0.3 s each) and
    # the interpreter's teardown (~1.3 s of collecting and freeing it all) skip it; a
    # throw-away process leaves that to the kernel.
    gc.freeze()
    try:
        labels, no_labels = app_labels(os.environ.get("NVD_PROBE_APP_LABELS", "")), None
    except Exception as e:  # noqa: BLE001 - then the sections by app say why
        labels, no_labels = [], {"error": error_text(e)}
    # Only what the daemon's running checks need (NVD_PROBE_SECTIONS); each costs time.
    wanted = set(os.environ.get("NVD_PROBE_SECTIONS", "check,makemigrations,migration_plan,apps,jobs,panels,"
                                "database,cache,broker,workers").split(","))
    sections = {
        "check": lambda: command("check"),
        # Every app in the one forked child: one command for all when none changed, no second boot.
        "makemigrations": lambda: no_labels or makemigrations_all(labels),
        "migration_plan": lambda: migration_plan(labels),
        "apps": app_list,
        "jobs": job_classes,
        "panels": lambda: no_labels or {label: section(panels, label) for label in labels},
        "database": database,
        "cache": cache,
        "broker": broker,
        "workers": workers,
        "rollback": rollback,
    }
    report = {"format": FORMAT, "nautobot_version": getattr(nautobot, "__version__", None)}
    if os.environ.get("NVD_PROBE_BOOTED_AGAIN"):
        report["booted_again"] = os.environ["NVD_PROBE_BOOTED_AGAIN"]
    # makemigrations runs in a child beside the rest (forked()); the order of the document stays.
    waiting = {"makemigrations": forked(sections["makemigrations"])} if "makemigrations" in wanted else {}
    for name, fn in sections.items():
        if name in waiting:
            report[name] = None
        elif name not in wanted:
            report[name] = {"error": "not asked for"}
        elif name in ("cache", "broker", "workers") and report["check"].get("exit_status") not in (0, None):
            # "check" died on what these would hang on (a wedged Redis): do not wait twice.
            report[name] = {"error": "not asked: nautobot-server check failed first"}
        else:
            report[name] = section(fn)
    for name, wait in waiting.items():
        report[name] = wait()
    data = json.dumps(report).encode()
    try:
        from django.conf import settings

        password = str(settings.DATABASES["default"].get("PASSWORD") or "").encode()
    except Exception:  # noqa: BLE001 - the document says what failed
        password = b""
    with os.fdopen(RESULT_FD, "wb") as f:
        f.write(data + b"\0" + password)
    sys.stdout.flush()


if __name__ == "nvd_probe":
    main()
