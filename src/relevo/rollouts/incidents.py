"""Incidents: opened by every rollback; a rolled-back release cannot start again until its
incident records a cause and a remediation, written by someone allowed to."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from relevo.audit import record_event
from relevo.context import Context
from relevo.errors import Conflict, InvalidInput, NotFound, Refused
from relevo.notify import notify
from relevo.services.catalogue import get_spec
from relevo.store import connect
from relevo.store.tables import incidents


def open_incident(conn: Connection, ctx: Context, *, service: str, environment: str, rollout_id: int | None,
                  release_id: int | None, title: str, evidence: dict[str, Any]) -> int:
    """Open an incident inside the caller's transaction (audited)."""
    now = ctx.clock.now()
    incident_id = conn.execute(incidents.insert().values(
        service=service, environment=environment, rollout_id=rollout_id, release_id=release_id, title=title,
        evidence=evidence, status="open", opened_at=now, opened_by=ctx.actor)).inserted_primary_key[0]
    record_event(conn, at=now, actor=ctx.actor, action="incident.opened", subject=f"{service}/incident-{incident_id}",
                 details={"rollout_id": rollout_id, "release_id": release_id, "title": title})
    return incident_id


def open_incidents_for(conn: Connection, release_id: int) -> list[int]:
    """Ids of the release's incidents that still lack a documented cause."""
    return list(conn.execute(select(incidents.c.id).where(
        incidents.c.release_id == release_id, incidents.c.status == "open")).scalars())


def document_incident(ctx: Context, incident_id: int, *, cause: str, remediation: str) -> dict[str, Any]:
    """Record an incident's cause and remediation (incident owners only); this lifts the retry gate."""
    if len(cause.strip()) < 10 or len(remediation.strip()) < 10:
        raise InvalidInput("cause and remediation must each say what happened (at least 10 characters)")
    with connect(ctx.engine) as conn:
        row = conn.execute(select(incidents).where(incidents.c.id == incident_id).with_for_update()).mappings().first()
        if row is None:
            raise NotFound(f"no incident {incident_id}")
        if row["status"] != "open":
            raise Conflict(f"incident {incident_id} is already documented")
        roles = get_spec(conn, row["service"]).roles
        if not roles.allows("incident_owners", ctx.actor):
            raise Refused(f"{ctx.actor} is not an incident owner of {row['service']} "
                          f"(incident owners: {', '.join(roles.incident_owners)})")
        now = ctx.clock.now()
        conn.execute(incidents.update().where(incidents.c.id == incident_id).values(
            status="documented", cause=cause, remediation=remediation, documented_by=ctx.actor, documented_at=now))
        record_event(conn, at=now, actor=ctx.actor, action="incident.documented",
                     subject=f"{row['service']}/incident-{incident_id}",
                     details={"cause": cause, "remediation": remediation})
    notify("incident.documented", f"{row['service']}/incident-{incident_id}", f"cause: {cause}")
    return {"incident": incident_id, "status": "documented", "documented_by": ctx.actor}


def list_incidents(ctx: Context, service: str | None = None) -> list[dict[str, Any]]:
    """Incidents, newest first."""
    query = select(incidents).order_by(incidents.c.id.desc())
    if service:
        query = query.where(incidents.c.service == service)
    with connect(ctx.engine) as conn:
        return [dict(r) for r in conn.execute(query).mappings()]
