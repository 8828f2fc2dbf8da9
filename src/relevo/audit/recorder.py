"""The one way a change of state is recorded: its audit event in the change's own transaction,
then, once that transaction has committed, its count and its notice to the Listeners.

A change that rolls back leaves no event and tells nobody; a change that commits is always in
the audit log, whether or not a channel then accepts its notice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import Connection

from relevo.audit.checkpoints import CHECKPOINTED, write_checkpoint
from relevo.audit.record import record_event, stored_form
from relevo.context import Context, role_of
from relevo.notify import Notice
from relevo.store import after_commit


@dataclass(frozen=True)
class Change:
    """A recorded change of state: its audit event's id and content."""

    event_id: int
    at: datetime
    actor: str
    action: str
    subject: str
    details: dict[str, Any]


def record_change(conn: Connection, ctx: Context, action: str, subject: str, details: dict[str, Any] | None = None,
                  *, notice: str | None = None, informed: Sequence[str] = (), actor: str | None = None,
                  at: datetime | None = None) -> Change:
    """Audit a change inside conn's transaction (ctx.actor's, now, unless told otherwise); after
    the commit it is counted and, with a notice, people (the informed ones named) are told on every channel."""
    at = at or ctx.clock.now()
    actor = actor or ctx.actor
    role = role_of(actor)  # the role the check that allowed this change let the actor act under
    details = stored_form((details or {}) | ({"role": role} if role else {}))  # the notice carries what the log holds
    event_id = record_event(conn, at=at, actor=actor, action=action, subject=subject, details=details)
    if action.startswith(CHECKPOINTED):
        write_checkpoint(conn, ctx)
    told = None if notice is None else Notice(action, subject, notice, details, actor, at, tuple(informed))
    after_commit(conn, lambda: ctx.listeners.committed(action, told))
    return Change(event_id, at, actor, action, subject, details)
