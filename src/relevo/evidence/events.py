"""Which audit events belong to a rollout's evidence: its own (start, steps, overrides, promotion
or rollback, change notice), its incidents', the routing changes it made while it ran, and its
candidate version's until it ended (registration, tests, checklist attestations and waivers)."""

from __future__ import annotations

from sqlalchemy import Connection, and_, or_, select

from relevo.rollouts import RolloutSummary
from relevo.store.tables import audit_events


def rollout_event_ids(conn: Connection, rollout: RolloutSummary, incident_ids: list[int]) -> list[int]:
    """The ids of the audit events of the rollout's evidence, in the log's order."""
    service, at = rollout.service, audit_events.c.at
    ended = [at <= rollout.ended_at] if rollout.ended_at is not None else []
    query = select(audit_events.c.id).where(or_(
        audit_events.c.subject.in_([f"{service}/rollout-{rollout.id}",
                                    *(f"{service}/incident-{i}" for i in incident_ids)]),
        and_(audit_events.c.subject == f"{service}/{rollout.candidate}", *ended),
        and_(audit_events.c.subject == f"{service}/{rollout.environment}", audit_events.c.action == "route.changed",
             at >= rollout.started_at, *ended)))
    return list(conn.execute(query.order_by(audit_events.c.seq)).scalars())
