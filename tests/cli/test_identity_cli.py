"""Identities from the command line: once the store has them, every change needs a token, the
acting identity is the token's (never --actor), and four-eyes compares identities."""

from __future__ import annotations

import pytest

from relevo import identity
from relevo.context import Context
from relevo.demo import SERVICE_NAME
from relevo.errors import Refused

from tests.conftest import clear_checklist_in

ADMIN = frozenset({("admin", None)})


def _people(settings) -> dict[str, str]:
    """ana the admin; luis operator and approver of the service; eva an auditor: their tokens."""
    ctx = Context.open(settings)
    try:
        admin = ctx.acting_as("ana", ADMIN)
        identity.add_identity(admin, "ana", grants=[identity.Grant("admin")])
        identity.add_identity(admin, "luis", grants=[identity.Grant("operator", SERVICE_NAME),
                                                     identity.Grant("approver", SERVICE_NAME)])
        identity.add_identity(admin, "eva", grants=[identity.Grant("auditor")])
        return {name: identity.create_token(admin, name)[1] for name in ("ana", "luis", "eva")}
    finally:
        ctx.close()


def test_changes_need_a_token_and_the_token_names_who_acts(cli, demo_settings, spec_file):
    tokens = _people(demo_settings)
    cli.env.pop("RELEVO_ACTOR")
    refused = cli("rollout", "start", SERVICE_NAME, "v2", ok=False)
    assert refused.exit_code == 1 and "set RELEVO_TOKEN" in refused.stderr
    assert cli("rollout", "history", SERVICE_NAME).exit_code == 0  # reading needs no token here
    cli.env["RELEVO_TOKEN"] = "rlv_000000000000_nothing"
    assert "not a valid token" in cli("rollout", "start", SERVICE_NAME, "v2", ok=False).stderr

    cli.env["RELEVO_TOKEN"] = tokens["eva"]  # an auditor: may read, not act
    refused = cli("rollout", "start", SERVICE_NAME, "v2", ok=False)
    assert "eva does not hold the operator role for licence-prefilter" in refused.stderr
    assert "admin role" in cli("user", "add", "mallory", "--role", "admin", ok=False).stderr
    assert "eva does not hold the" in cli("service", "apply", spec_file, ok=False).stderr
    assert "eva does not hold the publisher role" in cli("annotate", SERVICE_NAME, "v1", "a note", ok=False).stderr

    cli.env["RELEVO_TOKEN"] = tokens["luis"]
    clear_checklist_in(demo_settings, "v2")
    assert "Rollout 1 started" in cli("rollout", "start", SERVICE_NAME, "v2").stdout
    # One identity under two names: the name is the token's, so a flag cannot change who acts.
    cli.env["RELEVO_ACTOR"] = "someone-else"
    assert "the acting identity is the token's (luis)" in cli("rollout", "pause", "1", ok=False).stderr
    cli.env.pop("RELEVO_ACTOR")
    # Four eyes between identities: luis holds the approver role, but started this rollout.
    refused = cli("rollout", "promote", "1", "--override", "looks fine to me", ok=False)
    assert "luis started rollout 1 and cannot also approve its promotion" in refused.stderr
    assert cli.json("rollout", "status", SERVICE_NAME)["started_by"] == "luis"
    cli("rollout", "pause", "1", "--reason", "the portal is being maintained")

    # Each event names the identity, the role it acted under, and the state before and after.
    events = {e["action"]: e for e in cli.json("audit", "--limit", "1000")}
    started, paused, route = events["rollout.started"], events["rollout.pause"], events["route.changed"]
    assert started["actor"] == paused["actor"] == route["actor"] == "luis"
    assert started["details"]["role"] == paused["details"]["role"] == route["details"]["role"] == "operator"
    assert started["details"]["before"] is None and started["details"]["after"]["state"] == "running"
    assert paused["details"]["before"]["state"] == "running" and paused["details"]["after"]["state"] == "paused"
    assert route["details"]["before"]["mode"] == "stable" and route["details"]["mode"] != "stable"
    assert events["identity.created"]["details"]["role"] == "admin"

    cli.env["RELEVO_TOKEN"] = tokens["ana"]
    out = cli("user", "add", "portal", "--service-account", "--role", f"client:{SERVICE_NAME}").stdout
    assert "Added service portal with roles client:licence-prefilter" in out
    made = cli("token", "create", "portal", "--expires", "30d", "--service", SERVICE_NAME).stdout
    portal_token = [line for line in made.splitlines() if line.startswith("rlv_")][0]
    listed = cli.json("token", "list", "--user", "portal")
    assert len(listed) == 1 and listed[0]["services"] == [SERVICE_NAME] and portal_token not in str(listed)
    users = {u["name"]: u["roles"] for u in cli.json("user", "list")}
    assert users["luis"] == ["operator:licence-prefilter", "approver:licence-prefilter"]
    cli("user", "grant", "eva", "dpo")
    [granted] = [e for e in cli.json("audit", "--action", "identity.roles_changed") if e["subject"] == "identity/eva"]
    assert granted["details"]["before"] == ["auditor"] and granted["details"]["after"] == ["auditor", "dpo"]
    cli("token", "revoke", listed[0]["id"])
    cli.env["RELEVO_TOKEN"] = portal_token
    assert "not a valid token" in cli("token", "list", ok=False).stderr


def test_the_first_identity_must_be_an_admin(ctx, cli):
    """Else nobody could manage identities or make a token again: the store would be locked."""
    with pytest.raises(Refused, match="first identity must be an admin"):
        identity.add_identity(ctx.acting_as("luis"), "luis", grants=[identity.Grant("operator")])
    refused = cli("user", "add", "luis", "--role", "admin", ok=False)
    assert refused.exit_code == 1 and "relevo init --admin NAME" in refused.stderr
    assert not identity.list_identities(ctx)
