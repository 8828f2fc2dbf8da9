"""Reading the audit log: changes of state by default, case work on request, filters that combine."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from relevo.audit import record_change
from relevo.audit.queries import list_events
from relevo.audit import parse_since
from relevo.errors import InvalidInput, NotFound
from relevo.services.catalogue import apply_spec
from relevo.services.spec import ServiceSpec
from relevo.store import connect

T0 = datetime(2026, 11, 1, 8, tzinfo=timezone.utc)


def test_filters_and_the_default_view(ctx):
    with connect(ctx.engine) as conn:
        for i, (action, actor) in enumerate([("service.created", "ana"), ("decision.corrected", "case-worker"),
                                             ("review.claimed", "case-worker"), ("rollout.started", "ana"),
                                             ("rollout.rolled_back", "relevo-controller")]):
            record_change(conn, ctx, action, f"svc/{i}", at=T0 + timedelta(hours=i), actor=actor)
        record_change(conn, ctx, "service.created", "other/0", at=T0, actor="ana")
        # The first rollout transition signs a checkpoint, creating the instance's key (its own event).
        events = lambda **kw: [e.action for e in list_events(conn, **kw) if e.subject != "audit"]  # noqa: E731
        assert events() == ["service.created", "rollout.started", "rollout.rolled_back", "service.created"]
        assert len(events(case_work=True)) == 6
        assert [e.action for e in list_events(conn, action="audit.")] == ["audit.key_created"]
        assert events(action="rollout.*") == events(action="rollout.") == ["rollout.started", "rollout.rolled_back"]
        assert events(action="decision.corrected") == ["decision.corrected"]  # naming case work shows it
        assert events(actor="relevo-controller") == ["rollout.rolled_back"]
        assert events(since=T0 + timedelta(hours=3)) == ["rollout.started", "rollout.rolled_back"]
        assert events(limit=1) == ["service.created"]  # the newest one
    # One service's events: its own subject and those under it, not another's sharing its prefix.
    apply_spec(ctx, ServiceSpec(name="other", owner="Urbanism"))
    with connect(ctx.engine) as conn:
        record_change(conn, ctx, "service.created", "other-2/0", at=T0, actor="ana")
        assert [e.subject for e in list_events(conn, service="other")] == ["other/0", "other"]
        with pytest.raises(NotFound, match="unknown service 'othr'; known services: other"):
            list_events(conn, service="othr")


def test_since_takes_an_age_or_an_iso_time():
    now = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
    assert parse_since("48h", now) == now - timedelta(hours=48)
    assert parse_since("7d", now) == now - timedelta(days=7)
    assert parse_since("2026-11-30", now) == datetime(2026, 11, 30, tzinfo=timezone.utc)
    assert parse_since("2026-11-30T08:00Z", now) == datetime(2026, 11, 30, 8, tzinfo=timezone.utc)
    with pytest.raises(InvalidInput, match="--since takes an ISO date"):
        parse_since("yesterday", now)
