"""Reading the audit log back, filtered.

By default the log is read for changes of state (declarations, registrations, routes,
rollouts, incidents, overrides): case work (a case worker confirming, correcting or claiming a
decision) is thousands of events a day and is shown only when asked for (`case_work=True`, or an
action filter that names it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Any

from pydantic import WithJsonSchema
from sqlalchemy import Connection, not_, or_, select

from relevo.context import Context
from relevo.errors import InvalidInput, NotFound
from relevo.clock import DURATION_PATTERN, parse_duration
from relevo.store import connect
from relevo.store.tables import audit_events, services

CASE_WORK = ("decision.", "review.")  # action prefixes of case workers' events


@dataclass(frozen=True)
class AuditEvent:
    """One event of the audit log, as stored."""

    id: int
    at: datetime
    actor: str
    action: str
    subject: str
    details: dict[str, Any]
    seq: int  # its leaf's place in the audit log's Merkle tree
    leaf_hash: str


def list_events(conn: Connection, *, service: str | None = None, action: str | None = None,
                actor: str | None = None, since: datetime | None = None, case_work: bool = False,
                limit: int = 50) -> list[AuditEvent]:
    """The newest events matching every filter given, oldest first.

    action matches a whole action (`rollout.rolled_back`) or, ending in '.' or '*', a family
    (`rollout.`, `rollout.*`); service keeps the events about that service (its spec, versions,
    routes, rollouts, incidents, decisions), and is NotFound when no such service was declared.
    """
    query = select(audit_events).order_by(audit_events.c.id.desc()).limit(limit)
    if service:
        if conn.execute(select(services.c.name).where(services.c.name == service)).first() is None:
            # A misspelt name is an error, not an empty log (the log sits below the services).
            known = conn.execute(select(services.c.name).order_by(services.c.name)).scalars().all()
            raise NotFound(f"unknown service {service!r}; known services: {', '.join(known) or 'none'}")
        query = query.where(or_(audit_events.c.subject == service,
                                audit_events.c.subject.startswith(f"{service}/", autoescape=True)))
    if action:
        family = action.rstrip("*")
        query = query.where(audit_events.c.action.startswith(family, autoescape=True) if family.endswith(".")
                            else audit_events.c.action == action)
    elif not case_work:
        query = query.where(not_(or_(*(audit_events.c.action.startswith(p) for p in CASE_WORK))))
    if actor:
        query = query.where(audit_events.c.actor == actor)
    if since is not None:
        query = query.where(audit_events.c.at >= since)
    rows = conn.execute(query).mappings().all()
    return [AuditEvent(r["id"], r["at"], r["actor"], r["action"], r["subject"], r["details"], r["seq"], r["leaf_hash"])
            for r in reversed(rows)]


# What parse_since reads, as the published schema states it.
Since = Annotated[str, WithJsonSchema({"anyOf": [
    {"type": "string", "format": "date"}, {"type": "string", "format": "date-time"},
    {"type": "string", "pattern": DURATION_PATTERN}],
    "description": "an ISO date or time (UTC when no zone is given), or an age such as 48h or 7d"})]


def read_events(ctx: Context, *, service: str | None = None, action: str | None = None,
                actor: str | None = None, since: Since | None = None, case_work: bool = False,
                limit: int = 50) -> list[AuditEvent]:
    """list_events in a transaction of its own; since is an ISO date or time, or an age (48h)."""
    if limit < 1:
        raise InvalidInput("limit must be at least 1")
    after = parse_since(since, ctx.clock.now()) if since else None
    with connect(ctx.engine) as conn:
        return list_events(conn, service=service, action=action, actor=actor, since=after,
                           case_work=case_work, limit=limit)


def parse_since(text: str, now: datetime) -> datetime:
    """An ISO date or time (UTC when no zone is given), or an age such as 48h or 7d before now."""
    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"--since takes an ISO date or time (2026-12-01, 2026-12-01T08:00Z) or an age "
                           f"(48h, 7d), got {text!r}") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:  # within a day of year 1 or 9999: before or after every event
        edge = datetime.min if moment.year == 1 else datetime.max
        return edge.replace(tzinfo=timezone.utc)
