"""Appending audit events, in the same transaction as the change they describe, as leaves of
the audit log's Merkle tree."""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from relevo.audit.leaf import details_digest, leaf_data
from relevo.audit.merkle import Frontier, leaf_hash
from relevo.store.tables import audit_events, audit_tree


# Built once: every change of state appends through these (building a statement costs more than running it).
_LOCK_TREE = select(audit_tree.c.size, audit_tree.c.frontier).where(audit_tree.c.id == 1).with_for_update()
_APPEND_EVENT = audit_events.insert().returning(audit_events.c.id)
_GROW_TREE = audit_tree.update().where(audit_tree.c.id == 1)


def stored_form(details: dict[str, Any]) -> dict[str, Any]:
    """details as the audit log stores them: plain JSON (times and numbers of other types as text or floats)."""
    return json.loads(json.dumps(details, default=str))


def locked_tree(conn: Connection) -> Frontier:
    """The tree as it stands, locked until conn's transaction ends: appends queue behind it, so
    every replica's events take one agreed order (SQLite's writers already queue)."""
    row = conn.execute(_LOCK_TREE).one()  # the migration that made the tree wrote its row
    return Frontier(row.size, [bytes.fromhex(h) for h in row.frontier])


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
    tree = locked_tree(conn)
    salt = secrets.token_bytes(16)
    digest = details_digest(salt, details)
    leaf = leaf_hash(leaf_data(tree.size, at, actor, action, subject, digest))
    event_id = conn.execute(_APPEND_EVENT, dict(
        at=at, actor=actor, action=action, subject=subject, details=details, seq=tree.size, salt=salt.hex(),
        details_sha256=digest, leaf_hash=leaf.hex())).scalar_one()
    tree.append(leaf)
    conn.execute(_GROW_TREE, dict(size=tree.size, frontier=[h.hex() for h in tree.nodes]))
    return event_id
