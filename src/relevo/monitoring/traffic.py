"""Who answered a service's requests over a period, why fallbacks happened, and shadow agreement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, case, func, select

from relevo.registry.queries import name_of
from relevo.store.tables import decisions, shadow_decisions, versions


@dataclass(frozen=True)
class Answered:
    """How many decisions one answerer gave (a version, the rules or the manual queue), and why."""

    served_by: str
    version: str | None
    fallback_cause: str | None
    count: int


@dataclass(frozen=True)
class ShadowAgreement:
    """How often the shadow candidate answered a case as the version in front of citizens did."""

    compared: int
    agreed: int
    failed: int


@dataclass(frozen=True)
class TrafficSummary:
    """Who answered a service's requests over a period, and how the shadow agreed."""

    total: int
    answered: list[Answered]
    shadow: ShadowAgreement


def traffic_summary(conn: Connection, service: str, environment: str, since: datetime | None = None) -> TrafficSummary:
    """Counts by answerer and fallback cause, and how often the shadow candidate agreed."""
    period = [decisions.c.service == service, decisions.c.environment == environment]
    if since is not None:
        period.append(decisions.c.created_at >= since)
    answered = (select(decisions.c.served_by, versions.c.number, decisions.c.fallback_cause, func.count())
                .select_from(decisions.outerjoin(versions, versions.c.id == decisions.c.routed_version_id))
                .where(*period).group_by(decisions.c.served_by, versions.c.number, decisions.c.fallback_cause))
    rows = []
    for served_by, number, cause, count in conn.execute(answered):
        rows.append(Answered(served_by, name_of(number) if number and served_by == "version" else None, cause, count))
    shadow = conn.execute(
        select(func.count(), func.sum(case((shadow_decisions.c.decision == decisions.c.decision, 1), else_=0)),
               func.sum(case((shadow_decisions.c.error.is_not(None), 1), else_=0)))
        .select_from(shadow_decisions.join(decisions, decisions.c.id == shadow_decisions.c.decision_id))
        .where(*period, and_(decisions.c.served_by == "version"))
    ).one()
    return TrafficSummary(total=sum(r.count for r in rows), answered=sorted(rows, key=lambda r: -r.count),
                          shadow=ShadowAgreement(shadow[0] or 0, int(shadow[1] or 0), int(shadow[2] or 0)))
