"""Identities and tokens on both engines: random, argon2-hashed at rest, shown once, expiring,
revocable, scoped; only admins manage them (the very first identity is an admin)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from relevo import identity
from relevo.clock import SimulatedClock
from relevo.errors import Conflict, InvalidInput, Refused
from relevo.identity import Grant
from relevo.identity.verified import forget_tokens
from relevo.store import connect
from relevo.store.tables import audit_events, tokens

ADMIN = frozenset({("admin", None)})


@pytest.fixture
def admin(ctx):
    as_admin = ctx.acting_as("ana", ADMIN)
    identity.add_identity(as_admin, "ana", grants=[Grant("admin")])
    forget_tokens()
    return as_admin


def test_a_token_is_random_hashed_at_rest_and_speaks_for_its_identity(admin):
    identity.add_identity(admin, "luis", grants=[Grant.parse("operator:licence-prefilter"), Grant("auditor")])
    info, token = identity.create_token(admin, "luis", label="laptop")
    other = identity.create_token(admin, "luis")[1]
    assert token.startswith("rlv_") and token != other and len(token) > 50
    with connect(admin.engine) as conn:
        stored = conn.execute(select(tokens.c.secret_hash).where(tokens.c.id == info.id)).scalar_one()
        logged = str(conn.execute(select(audit_events.c.details)).scalars().all())
    secret = token.split("_", 2)[2]
    assert stored.startswith("$argon2id$") and secret not in stored and secret not in logged
    principal = identity.authenticate(admin.engine, token, admin.clock.now())
    assert principal.name == "luis" and principal.grants == {("operator", "licence-prefilter"), ("auditor", None)}
    assert identity.remembered(token, admin.clock.now()) == principal  # the next request skips argon2
    for wrong in (token[:-1] + ("A" if token[-1] != "A" else "B"), "rlv_" + "0" * 12 + "_x", "Bearer " + token,
                  "", "rlv_", token + "x" * 300):
        assert identity.authenticate(admin.engine, wrong, admin.clock.now()) is None, wrong
        assert identity.remembered(wrong, admin.clock.now()) is None


def test_expired_revoked_and_disabled_tokens_stop_working(admin, settings):
    identity.add_identity(admin, "luis", grants=[Grant("operator")])
    info, token = identity.create_token(admin, "luis", expires_in=timedelta(hours=1))
    now = admin.clock.now()
    assert identity.authenticate(admin.engine, token, now + timedelta(minutes=59)) is not None
    assert identity.authenticate(admin.engine, token, now + timedelta(minutes=61)) is None  # expired
    assert identity.remembered(token, now + timedelta(minutes=61)) is None
    identity.revoke_token(admin, info.id)
    assert identity.remembered(token, now) is None and identity.authenticate(admin.engine, token, now) is None
    second = identity.create_token(admin, "luis")[1]
    assert identity.authenticate(admin.engine, second, now) is not None
    identity.disable_identity(admin, "luis")
    assert identity.authenticate(admin.engine, second, now) is None
    with pytest.raises(Refused, match="disabled"):
        identity.create_token(admin, "luis")
    with pytest.raises(InvalidInput, match="at most 400 days"):
        identity.create_token(admin, "ana", expires_in=timedelta(days=401))


def test_a_scoped_token_carries_only_the_roles_of_its_services(admin):
    identity.add_identity(admin, "portal", kind="service", grants=[Grant("client")])
    _, token = identity.create_token(admin, "portal", services=["licence-prefilter"])
    principal = identity.authenticate(admin.engine, token, admin.clock.now())
    assert principal.kind == "service" and principal.grants == {("client", "licence-prefilter")}
    assert identity.holds(principal.grants, "client", "licence-prefilter")
    assert not identity.holds(principal.grants, "client", "request-triage")


def test_only_admins_manage_identities_and_tokens(admin):
    identity.add_identity(admin, "luis", grants=[Grant("operator")])
    luis = admin.acting_as("luis", frozenset({("operator", None)}))
    for attempt in (lambda: identity.add_identity(luis, "mallory", grants=[Grant("admin")]),
                    lambda: identity.change_grants(luis, "luis", add=[Grant("admin")]),
                    lambda: identity.create_token(luis, "ana"),
                    lambda: identity.disable_identity(luis, "ana")):
        with pytest.raises(Refused, match="admin role"):
            attempt()
    with pytest.raises(Conflict, match="already exists"):
        identity.add_identity(admin, "luis")
    with pytest.raises(InvalidInput, match="unknown role 'mayor'"):
        Grant.parse("mayor")
    with pytest.raises(InvalidInput, match="lower-case"):
        identity.add_identity(admin, "Luis Pérez")
    with pytest.raises(Refused, match="cannot withdraw their own admin role"):
        identity.change_grants(admin, "ana", remove=[Grant("admin")])
    changed = identity.change_grants(admin, "luis", add=[Grant.parse("approver:licence-prefilter")],
                                     remove=[Grant("operator")])
    assert [str(g) for g in changed.grants] == ["approver:licence-prefilter"]
    with connect(admin.engine) as conn:
        actions = conn.execute(select(audit_events.c.action).order_by(audit_events.c.seq)).scalars().all()
    assert actions.count("identity.created") == 2 and "identity.roles_changed" in actions


def test_a_token_expires_by_the_clock_the_store_keeps(ctx):
    clock = SimulatedClock(ctx.clock.now())
    timed = ctx.__class__(**{**ctx.__dict__, "clock": clock}).acting_as("ana", ADMIN)
    identity.add_identity(timed, "ana", grants=[Grant("admin")])
    _, token = identity.create_token(timed, "ana", expires_in=timedelta(days=1))
    clock.advance(timedelta(days=2))
    assert identity.authenticate(timed.engine, token, clock.now()) is None

