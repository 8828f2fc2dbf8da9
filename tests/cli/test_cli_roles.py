"""Every mutating CLI command against every role, on the local store and through a remote server
(so every mutating API operation too): refused (exit 1, naming the role) for each role that may
not run it, then run (exit 0) by one that may; never a traceback. The commands follow one story,
so each allowed run finds the state it needs."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

import pytest

from relevo import identity
from relevo.context import Context
from relevo.demo import SERVICE_NAME as S, spec_resource
from relevo.demo.setup import demo_suite
from relevo.services import load_spec
from tests.conftest import clear_checklist_in, demo_training

ADMIN = frozenset({("admin", None)})


def _tokens(settings) -> dict[str, str]:
    """One identity per role (`as-ROLE`), holding that role alone."""
    ctx = Context.open(settings)
    try:
        admin = ctx.acting_as("as-admin", ADMIN)
        identity.add_identity(admin, "as-admin", grants=[identity.Grant("admin")])
        for role in identity.ROLES:
            if role != "admin":
                identity.add_identity(admin, f"as-{role.replace('_', '-')}", grants=[identity.Grant(role)])
        return {role: identity.create_token(admin, f"as-{role.replace('_', '-')}")[1] for role in identity.ROLES}
    finally:
        ctx.close()


# Who may run what is decided before the store is written, the same on both engines (which the
# commands' own tests cover); one engine keeps the matrix quick.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("where", ["local", "remote"])
def test_every_mutating_command_against_every_role(where, cli, demo_settings, tmp_path: Path, request):
    tokens = _tokens(demo_settings)
    cli.env.pop("RELEVO_ACTOR")
    if where == "remote":
        cli.env.update(RELEVO_URL=request.getfixturevalue("served").url, RELEVO_HOME=str(tmp_path / "elsewhere"))
        cli.env.pop("RELEVO_DATABASE_URL")
    trained = demo_training()[1]
    artifact = tmp_path / "artifact"
    shutil.copytree(trained.artifact_dir, artifact)
    (artifact / "NOTES.txt").write_text("a new version\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_resource().read_text(encoding="utf-8"))
    demo_suite(tmp_path, load_spec(spec))  # the suite the spec names, beside it
    latest: dict[str, str] = {}

    def rollout() -> str:
        return latest["rollout"]

    def incident() -> str:
        return latest["incident"]

    # (the command, the role that runs it here; admin holds every role, so is never refused)
    story: list[tuple[Callable[[], list[str]], str]] = [
        (lambda: ["annotate", S, "v1", "trained on 2025 data"], "publisher"),
        (lambda: ["register", S, artifact, "-m", trained.metadata_path], "publisher"),
        (lambda: ["tag", S, "reviewed", "v4"], "operator"),
        (lambda: ["service", "apply", spec], "operator"),
        (lambda: ["route", S, "--env", "staging", "--stable", "v2"], "operator"),
        (lambda: ["fallback", S, "on"], "operator"),
        (lambda: ["fallback", S, "off"], "operator"),
        (lambda: ["rollout", "start", S, "v4", "--plan", "canary-only"], "operator"),
        (lambda: ["rollout", "pause", rollout()], "operator"),
        (lambda: ["rollout", "resume", rollout()], "operator"),
        (lambda: ["rollout", "promote", rollout(), "--override", "accepted by the council in writing"], "approver"),
        (lambda: ["rollout", "revert", rollout(), "--reason", "rejections rose after the promotion"], "operator"),
        (lambda: ["incident", "document", incident(), "--cause", "a shifted feature",
                  "--remediation", "retrained on recent data"], "operator"),
        (lambda: ["rollout", "start", S, "v4", "--plan", "canary-only"], "operator"),
        (lambda: ["rollout", "abort", rollout()], "operator"),
        (lambda: ["rollout", "start", S, "v4", "--plan", "canary-only"], "operator"),
        (lambda: ["rollout", "rollback", rollout(), "--reason", "the drill says so"], "operator"),
        (lambda: ["user", "add", "newcomer", "--role", "auditor"], "admin"),
        (lambda: ["user", "grant", "newcomer", "dpo"], "admin"),
        (lambda: ["user", "withdraw", "newcomer", "dpo"], "admin"),
        (lambda: ["token", "create", "newcomer"], "admin"),
        (lambda: ["token", "revoke", latest["token"]], "admin"),
        (lambda: ["user", "disable", "newcomer"], "admin"),
        (lambda: ["audit", "rotate-key"], "admin"),
    ]
    for command, allowed in story:
        for role in identity.ROLES:
            if role in (allowed, "admin"):
                continue
            cli.env["RELEVO_TOKEN"] = tokens[role]
            refused = cli(*command(), ok=False)
            assert refused.exit_code == 1 and "Traceback" not in refused.output, (command(), role, refused.output)
            assert "role" in refused.stderr, (command(), role, refused.stderr)
        cli.env["RELEVO_TOKEN"] = tokens[allowed]
        if command()[:2] == ["rollout", "start"]:
            clear_checklist_in(demo_settings, "v4", plan="canary-only")
        done = cli(*command())
        words = done.stdout.split()
        if command()[:2] == ["rollout", "start"]:
            latest["rollout"] = words[1]
        if "incident" in words:
            latest["incident"] = words[words.index("incident") + 1].rstrip(".")
        if command()[:2] == ["token", "create"]:
            latest["token"] = words[1]
