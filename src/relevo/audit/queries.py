"""Reading the audit log back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from relevo.store.tables import audit_events


def list_events(conn: Connection, *, subject_prefix: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The newest events (optionally only those whose subject starts with a prefix), oldest first."""
    query = select(audit_events).order_by(audit_events.c.id.desc()).limit(limit)
    if subject_prefix:
        query = query.where(audit_events.c.subject.startswith(subject_prefix, autoescape=True))
    rows = conn.execute(query).mappings().all()
    return [dict(r) for r in reversed(rows)]
