"""Drills as recorded: each run's scenario, timings against the runbook's targets, and what was lost."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from relevo.audit import record_change
from relevo.context import Context
from relevo.services.catalogue import get_spec
from relevo.store import connect
from relevo.store.continuity_tables import drills

OUTCOMES = ("passed", "failed")


@dataclass(frozen=True)
class Drill:
    """One drill: a fault rehearsed on a copy of the service, and how the real gateway and controller fared."""

    service: str
    environment: str
    scenario: str
    clock: str  # simulated | real
    outcome: str  # passed: detected and recovered within the runbook's targets, nothing lost, everyone answered
    detect_seconds: float | None  # fault to detection; None: never detected
    recover_seconds: float | None  # fault to citizens answered as before; None: never recovered
    target_detect_seconds: float
    target_recover_seconds: float
    requests: int
    lost: int  # acknowledged decisions missing from the decision log
    unanswered: int  # requests that got no answer
    started_at: datetime
    finished_at: datetime
    run_by: str
    details: dict[str, Any] = field(default_factory=dict)
    override_reason: str | None = None
    id: int | None = None


def record_drill(conn: Connection, ctx: Context, drill: Drill) -> int:
    """Store a drill and audit it (drill.passed or drill.failed, told to the channels when it failed); its id."""
    if drill.outcome not in OUTCOMES:
        raise ValueError(f"a drill's outcome is one of {', '.join(OUTCOMES)}, not {drill.outcome!r}")
    values = {name: getattr(drill, name) for name in drills.c.keys() if name != "id"}
    drill_id = conn.execute(drills.insert().values(**values).returning(drills.c.id)).scalar_one()
    failed = drill.outcome == "failed"
    record_change(conn, ctx, f"drill.{drill.outcome}", f"{drill.service}/drill-{drill_id}", {
        "environment": drill.environment, "scenario": drill.scenario, "clock": drill.clock,
        "detect_seconds": drill.detect_seconds, "recover_seconds": drill.recover_seconds,
        "target_detect_seconds": drill.target_detect_seconds, "target_recover_seconds": drill.target_recover_seconds,
        "requests": drill.requests, "lost": drill.lost, "unanswered": drill.unanswered,
        "override_reason": drill.override_reason, "severity": "warning" if failed else "info",
        "findings": drill.details.get("findings", [])[:20]},
        at=drill.finished_at,
        notice=(f"{drill.service}: the {drill.scenario} drill in {drill.environment} FAILED: "
                + "; ".join(drill.details.get("findings", [])[:3])) if failed else None)
    return drill_id


def _drill(row: Any) -> Drill:
    return Drill(**{name: getattr(row, name) for name in drills.c.keys()})


def drills_of(conn: Connection, service: str, *, since: datetime | None = None, limit: int | None = None) -> list[Drill]:
    """A service's drills, newest first, inside the caller's transaction."""
    query = select(drills).where(drills.c.service == service)
    if since is not None:
        query = query.where(drills.c.started_at >= since)
    query = query.order_by(drills.c.started_at.desc(), drills.c.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return [_drill(row) for row in conn.execute(query)]


def drill_history(ctx: Context, service: str, limit: int = 50) -> list[Drill]:
    """The service's drills, newest first (NotFound for an unknown service)."""
    with connect(ctx.engine) as conn:
        get_spec(conn, service)
        return drills_of(conn, service, limit=limit)
