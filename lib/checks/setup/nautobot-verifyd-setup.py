# SPDX-License-Identifier: LGPL-2.1-or-later
"""nautobot-verifyctl setup's one write into Nautobot: the verifier's own account.

Run by "nautobot-verifyctl setup" (as root) the way the daemon runs its probe:
    nautobot-server shell --no-startup --no-imports -v 0 --command \
        'import os, runpy; runpy.run_path(os.environ["NVD_SETUP"], run_name="nvd_setup")'
as the owner of the Nautobot installation, with a scrubbed environment and file
descriptor 3 open for writing. Idempotent: every run brings the account to the
same state, and says what it had to change.

The account is what the checks log in with (the panels check's /login/, the REST
API of the jobs and running checks). It is neither superuser nor staff: a
superuser sees every panel and so would hide exactly the fault of an account
without permissions. It gets one ObjectPermission, "view" only, on the content
types the checks read: the Job list and its variables (extras.job), and the
models named by the permissions of every home-page panel the installed Nautobot
apps declare (Nautobot shows a panel to a user with at least one of them). An
app upgrade that adds a model adds a content type here: setup is run again.

Environment: NVD_SETUP_USERNAME (the account), NVD_SETUP_PASSWORD and
NVD_SETUP_TOKEN (what the account's password and one of its API tokens must be;
root keeps them in /etc/nautobot-verifyd/). The secrets are set, never printed.

Writes one JSON document to fd 3:
  format        1
  nautobot_version
  user          {"username", "created", "changed": ["is_superuser", "password", ...]}
  token         {"created"}
  permission    {"name", "created", "object_types": ["app.model", ...], "added": [...],
                 "unknown": ["app.view_model", ...]}   (panel permissions naming no model)
  panels        [{"app", "name", "permissions"}, ...]
or {"format": 1, "error": "Type: message"} when it could not.
"""

import json
import os
import sys
import traceback

FORMAT = 1
RESULT_FD = 3
PERMISSION_NAME = "nautobot-verifyd: read-only verification"
PERMISSION_DESCRIPTION = ("Managed by 'nautobot-verifyctl setup': view on what nautobot-verifyd's checks "
                          "read (Jobs, the home-page panels of the installed apps). Run it again after an "
                          "upgrade that adds models; changes made here are undone by it.")
TOKEN_DESCRIPTION = "nautobot-verifyd (nautobot-verifyctl setup)"
# What the jobs check reads: the Job list and /api/extras/jobs/<id>/variables/.
BASE_PERMISSIONS = ("extras.view_job",)


def error_text(exc):
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[-1] if lines else ''}".rstrip(": ")


def nautobot_apps():
    """The Nautobot apps the server loads (PLUGINS), not Nautobot's own (as the probe)."""
    from django.apps import apps
    from nautobot.apps import NautobotAppConfig

    return [a for a in apps.get_app_configs()
            if isinstance(a, NautobotAppConfig) and not a.name.startswith("nautobot.")]


def declared_panels():
    panels = []
    for app in nautobot_apps():
        for p in app.features.get("home_page") or []:
            panels.append({"app": app.label, "name": p.name,
                           "permissions": sorted(getattr(p, "permissions", None) or [])})
    return panels


def content_types(codenames):
    """"app.view_model" -> ContentType; the codenames naming no model, apart."""
    from django.contrib.contenttypes.models import ContentType

    found, unknown = {}, []
    for perm in sorted(set(codenames)):
        app_label, _, codename = perm.partition(".")
        action, _, model = codename.partition("_")
        try:
            if action != "view" or not model:
                raise ContentType.DoesNotExist
            found[perm] = ContentType.objects.get(app_label=app_label, model=model)
        except ContentType.DoesNotExist:
            unknown.append(perm)
    return found, unknown


def ensure_user(username, password):
    from django.contrib.auth import get_user_model

    User = get_user_model()
    user, created = User.objects.get_or_create(username=username)
    changed = []
    # Never more than the checks need: a superuser or staff account would see what
    # an ordinary one cannot, and pass where the admins' users fail.
    for flag, value in (("is_superuser", False), ("is_staff", False), ("is_active", True)):
        if getattr(user, flag) != value:
            setattr(user, flag, value)
            changed.append(flag)
    if not user.check_password(password):
        user.set_password(password)
        changed.append("password")
    if created or changed:
        user.save()
    return user, {"username": username, "created": created, "changed": [] if created else changed}


def ensure_token(user, key):
    from nautobot.users.models import Token

    token = Token.objects.filter(key=key).first()
    if token is not None and token.user_id != user.pk:
        raise ValueError("the API token of /etc/nautobot-verifyd/api-token belongs to another account")
    if token is None:
        # A new secret (setup --force, or a lost file): the one setup made before is revoked.
        Token.objects.filter(user=user, description=TOKEN_DESCRIPTION).delete()
        Token.objects.create(user=user, key=key, write_enabled=False, description=TOKEN_DESCRIPTION)
        return {"created": True}
    changed = False
    if token.write_enabled or token.expires is not None:
        token.write_enabled, token.expires = False, None
        changed = True
    if changed:
        token.save()
    return {"created": False}


def ensure_permission(user, panels):
    from nautobot.users.models import ObjectPermission

    wanted, unknown = content_types([*BASE_PERMISSIONS, *(p for panel in panels for p in panel["permissions"])])
    perm, created = ObjectPermission.objects.get_or_create(
        name=PERMISSION_NAME, defaults={"actions": ["view"], "description": PERMISSION_DESCRIPTION})
    if perm.actions != ["view"] or perm.constraints or not perm.enabled:
        perm.actions, perm.constraints, perm.enabled = ["view"], None, True
        perm.save()
    have = {(ct.app_label, ct.model) for ct in perm.object_types.all()}
    added = sorted(p for p, ct in wanted.items() if (ct.app_label, ct.model) not in have)
    if added:
        perm.object_types.add(*(wanted[p] for p in added))
    if not perm.users.filter(pk=user.pk).exists():
        perm.users.add(user)
    types = sorted(f"{ct.app_label}.{ct.model}" for ct in perm.object_types.all())
    return {"name": PERMISSION_NAME, "created": created, "object_types": types,
            "added": [] if created else added, "unknown": unknown}


def main():
    import nautobot
    from django.db import transaction

    report = {"format": FORMAT, "nautobot_version": getattr(nautobot, "__version__", None)}
    try:
        username = os.environ["NVD_SETUP_USERNAME"]
        password = os.environ.pop("NVD_SETUP_PASSWORD")
        key = os.environ.pop("NVD_SETUP_TOKEN")
        panels = declared_panels()
        # All or nothing: an account half set up would fail the checks for reasons of its own.
        with transaction.atomic():
            user, report["user"] = ensure_user(username, password)
            report["token"] = ensure_token(user, key)
            report["permission"] = ensure_permission(user, panels)
        report["panels"] = panels
    except Exception as e:  # noqa: BLE001 - the document says what failed
        report = {"format": FORMAT, "error": error_text(e)}
        traceback.print_exc()
    with os.fdopen(RESULT_FD, "wb") as f:
        f.write(json.dumps(report).encode())
    sys.stdout.flush()


if __name__ == "nvd_setup":
    main()
