"""Incidents: opened by every rollback; what was rolled back cannot start again until its
incident records a cause and a remediation, written by someone allowed to.

The retry gate follows what was rolled back, not the release's hash: the model version, when
the rollout changed the model, and the decision rules (relevo.services.catalogue.DECISION_RULES),
when it changed them. Editing anything else in the spec (an owner, a description) therefore
never lifts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from relevo.audit import record_change
from relevo.context import Context
from relevo.errors import Conflict, InvalidInput, NotFound
from relevo.services.catalogue import get_spec, rules_digest
from relevo.services.spec import ServiceSpec
from relevo.registry.queries import name_of
from relevo.rollouts.incident_clocks import IncidentClock, clocks_of
from relevo.rollouts.overrides import MIN_REASON, Reason
from relevo.services.roles import require_role
from relevo.store import connect, storable_text
from relevo.store.tables import incidents, releases, rollouts, versions


@dataclass(frozen=True)
class Incident:
    """An incident opened by a rollback or a revert, and its documentation once written."""

    id: int
    service: str
    environment: str
    rollout_id: int | None
    release_id: int | None
    title: str
    evidence: dict[str, Any]
    status: str  # open until its cause and remediation are documented
    opened_at: datetime
    opened_by: str
    cause: str | None
    remediation: str | None
    documented_by: str | None
    documented_at: datetime | None
    clocks: list[IncidentClock]  # its regulatory clocks, where they apply (relevo.rollouts.incident_clocks)


def open_incident(conn: Connection, ctx: Context, *, service: str, environment: str, rollout_id: int | None,
                  release_id: int | None, title: str, evidence: dict[str, Any]) -> int:
    """Open an incident inside the caller's transaction (audited)."""
    now = ctx.clock.now()
    incident_id = conn.execute(incidents.insert().values(
        service=service, environment=environment, rollout_id=rollout_id, release_id=release_id, title=title,
        evidence=evidence, status="open", opened_at=now, opened_by=ctx.actor)).inserted_primary_key[0]
    record_change(conn, ctx, at=now, action="incident.opened", subject=f"{service}/incident-{incident_id}",
                 details={"rollout_id": rollout_id, "release_id": release_id, "title": title})
    return incident_id


def blocking_incidents(conn: Connection, service: str, version_id: int, spec: ServiceSpec) -> list[tuple[int, str]]:
    """(incident id, what it blocks) of every open incident whose rolled-back change a release of
    version_id under spec would repeat: the same model version, or the same decision rules."""
    rolled, stable_release = releases.alias("rolled"), releases.alias("stable_release")
    rows = conn.execute(
        select(incidents.c.id, incidents.c.release_id, rollouts.c.candidate_version_id, rollouts.c.stable_version_id,
               rolled.c.spec.label("rolled_spec"), stable_release.c.spec.label("stable_spec"), versions.c.number)
        .select_from(incidents.join(rollouts, rollouts.c.id == incidents.c.rollout_id)
                     .join(rolled, rolled.c.id == incidents.c.release_id)
                     .join(versions, versions.c.id == rollouts.c.candidate_version_id)
                     .outerjoin(stable_release, stable_release.c.id == rollouts.c.stable_release_id))
        .where(incidents.c.service == service, incidents.c.status == "open")
        .order_by(incidents.c.id)).all()
    wanted_rules = rules_digest(spec)
    out = []
    for row in rows:
        model_changed = row.candidate_version_id != row.stable_version_id
        rolled_rules = rules_digest(ServiceSpec.model_validate(row.rolled_spec))
        rules_changed = (rolled_rules != rules_digest(ServiceSpec.model_validate(row.stable_spec))
                         if row.stable_spec is not None else not model_changed)
        if model_changed and row.candidate_version_id == version_id:
            out.append((row.id, f"model version {name_of(row.number)}"))
        elif rules_changed and rolled_rules == wanted_rules:
            out.append((row.id, "these decision rules"))
    return out


def document_incident(ctx: Context, incident_id: int, *, cause: Reason, remediation: Reason) -> Incident:
    """Record an incident's cause and remediation (incident owners only); this lifts the retry gate."""
    with connect(ctx.engine) as conn:
        row = conn.execute(select(incidents).where(incidents.c.id == incident_id).with_for_update()).mappings().first()
        if row is None:
            raise NotFound(f"no incident {incident_id}")
        if row["status"] != "open":
            raise Conflict(f"incident {incident_id} is already documented")
        # The grant (operator for the service) and the spec's names for its incident owners.
        require_role(conn, ctx, row["service"], "incident_owners")
        if len(cause.strip()) < MIN_REASON or len(remediation.strip()) < MIN_REASON:
            raise InvalidInput(f"cause and remediation must each say what happened (at least {MIN_REASON} characters)")
        storable_text("cause", cause)
        storable_text("remediation", remediation)
        now = ctx.clock.now()
        conn.execute(incidents.update().where(incidents.c.id == incident_id).values(
            status="documented", cause=cause, remediation=remediation, documented_by=ctx.actor, documented_at=now))
        record_change(conn, ctx, at=now, action="incident.documented",
                     subject=f"{row['service']}/incident-{incident_id}",
                     details={"cause": cause, "remediation": remediation}, notice=f"cause: {cause}")
        row = conn.execute(select(incidents).where(incidents.c.id == incident_id)).mappings().one()
        return Incident(**row, clocks=clocks_of(conn, [incident_id], now)[incident_id])


def list_incidents(ctx: Context, service: str | None = None) -> list[Incident]:
    """Incidents, newest first."""
    query = select(incidents).order_by(incidents.c.id.desc())
    if service:
        query = query.where(incidents.c.service == service)
    with connect(ctx.engine) as conn:
        if service:
            get_spec(conn, service)  # a misspelt name is an error, not an empty list
        rows = conn.execute(query).mappings().all()
        clocks = clocks_of(conn, [r["id"] for r in rows], ctx.clock.now())
        return [Incident(**r, clocks=clocks[r["id"]]) for r in rows]
