"""Who answered a service's requests over a period, why fallbacks happened, and shadow agreement."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, func, select

from relevo.registry.queries import name_of
from relevo.store.tables import decisions, shadow_decisions, versions


def traffic_summary(conn: Connection, service: str, environment: str, since: datetime | None = None) -> dict[str, Any]:
    """Counts by answerer and fallback cause, and how often the shadow candidate agreed."""
    period = [decisions.c.service == service, decisions.c.environment == environment]
    if since is not None:
        period.append(decisions.c.created_at >= since)
    answered = (select(decisions.c.served_by, versions.c.number, decisions.c.fallback_cause, func.count())
                .select_from(decisions.outerjoin(versions, versions.c.id == decisions.c.routed_version_id))
                .where(*period).group_by(decisions.c.served_by, versions.c.number, decisions.c.fallback_cause))
    rows = []
    for served_by, number, cause, count in conn.execute(answered):
        rows.append({"served_by": served_by, "version": name_of(number) if number and served_by == "version" else None,
                     "fallback_cause": cause, "count": count})
    shadow = conn.execute(
        select(func.count(), func.sum(case((shadow_decisions.c.decision == decisions.c.decision, 1), else_=0)),
               func.sum(case((shadow_decisions.c.error.is_not(None), 1), else_=0)))
        .select_from(shadow_decisions.join(decisions, decisions.c.id == shadow_decisions.c.decision_id))
        .where(*period, and_(decisions.c.served_by == "version"))
    ).one()
    return {
        "total": sum(r["count"] for r in rows),
        "answered": sorted(rows, key=lambda r: -r["count"]),
        "shadow": {"compared": shadow[0] or 0, "agreed": int(shadow[1] or 0), "failed": int(shadow[2] or 0)},
    }
