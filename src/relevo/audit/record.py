"""Appending audit events, in the same transaction as the change they describe."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from relevo.store.tables import audit_events


def canonical_event(at: datetime, actor: str, action: str, subject: str, details: dict[str, Any]) -> bytes:
    """The bytes an event's content hash covers (stable across engines and restarts)."""
    body = {"at": at.isoformat(), "actor": actor, "action": action, "subject": subject, "details": details}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()


def stored_form(details: dict[str, Any]) -> dict[str, Any]:
    """details as the audit log stores them: plain JSON (times and numbers of other types as text or floats)."""
    return json.loads(json.dumps(details, default=str))


def record_event(
    conn: Connection,
    *,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    details: dict[str, Any] | None = None,
) -> int:
    """Append one event; it commits or rolls back with the caller's transaction."""
    details = stored_form(details or {})  # what is stored is what is hashed
    digest = hashlib.sha256(canonical_event(at, actor, action, subject, details)).hexdigest()
    result = conn.execute(
        audit_events.insert().values(
            at=at, actor=actor, action=action, subject=subject, details=details, content_sha256=digest
        )
    )
    return result.inserted_primary_key[0]
