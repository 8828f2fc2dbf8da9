"""Overrides of a gate: an approver's, with a written reason, on record and in the audit log.

A gate that lacks evidence holds; the only way past it is a named approver who writes why. The
overrides table lets the gates ask, cheaply, whether a version was established for production
by one (the first version of a service, which no rollout can precede).
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from relevo.audit import record_change
from relevo.audit.reasons import MIN_REASON, REASON_PATTERN, Reason, check_reason  # noqa: F401 (the rollouts' names)
from relevo.context import Context
from relevo.services.roles import require_role
from relevo.store.tables import overrides, rollouts


def record_override(conn: Connection, ctx: Context, *, service: str, environment: str, gate: str, subject: str,
                    reason: str | None, version_id: int | None = None, details: dict | None = None) -> int:
    """Record an approver's override of gate inside the caller's transaction (audited); Refused
    unless the acting person is an approver of the service."""
    require_role(conn, ctx, service, "approvers")
    reason = check_reason(reason, gate)
    now = ctx.clock.now()
    override_id = conn.execute(overrides.insert().values(
        service=service, environment=environment, gate=gate, version_id=version_id, subject=subject,
        reason=reason, actor=ctx.actor, at=now)).inserted_primary_key[0]
    record_change(conn, ctx, at=now, action="override.recorded", subject=subject,
                 details={"override_id": override_id, "gate": gate, "environment": environment,
                          "reason": reason} | (details or {}))
    return override_id


def established(conn: Connection, service: str, environment: str, version_id: int) -> bool:
    """True when the version passed a rollout in the environment (promoted, not reverted since),
    or an approver put it there with an override."""
    promoted = conn.execute(select(rollouts.c.id).where(
        rollouts.c.service == service, rollouts.c.environment == environment, rollouts.c.state == "promoted",
        rollouts.c.candidate_version_id == version_id).limit(1)).first()
    if promoted is not None:
        return True
    return conn.execute(select(overrides.c.id).where(
        overrides.c.service == service, overrides.c.environment == environment,
        overrides.c.gate.in_(("route.stable", "tag.stable")), overrides.c.version_id == version_id)
        .limit(1)).first() is not None
