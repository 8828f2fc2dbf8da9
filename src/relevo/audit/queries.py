"""Reading the audit log back, filtered.

By default the log is read for changes of state (declarations, registrations, routes,
rollouts, incidents, overrides): case work (a case worker confirming, correcting or claiming a
decision) is thousands of events a day and is shown only when asked for (`case_work=True`, or an
action filter that names it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, not_, or_, select

from relevo.store.tables import audit_events

CASE_WORK = ("decision.", "review.")  # action prefixes of case workers' events


def list_events(conn: Connection, *, subject_prefix: str | None = None, action: str | None = None,
                actor: str | None = None, since: datetime | None = None, case_work: bool = False,
                limit: int = 50) -> list[dict[str, Any]]:
    """The newest events matching every filter given, oldest first.

    action matches a whole action (`rollout.rolled_back`) or, ending in '.' or '*', a family
    (`rollout.`, `rollout.*`); subject_prefix matches the start of the subject (a service name).
    """
    query = select(audit_events).order_by(audit_events.c.id.desc()).limit(limit)
    if subject_prefix:
        query = query.where(audit_events.c.subject.startswith(subject_prefix, autoescape=True))
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
    return [dict(r) for r in reversed(rows)]
