"""A case worker's confirmation or correction of a decision: the ground truth for its model."""

from __future__ import annotations

from sqlalchemy import Connection, select

from relevo.audit import record_event
from relevo.context import Context
from relevo.errors import InvalidInput, NotFound
from relevo.services.catalogue import get_spec
from relevo.store import connect
from relevo.store.tables import decisions, feedback, manual_reviews


def record_feedback_in(conn: Connection, ctx: Context, decision_id: str, *, decision: str, reason: str,
                       reviewer: str) -> dict:
    """Record feedback inside the caller's transaction; 'confirmed' when it agrees with the answer."""
    row = conn.execute(select(decisions.c.service, decisions.c.decision).where(decisions.c.id == decision_id)).first()
    if row is None:
        raise NotFound(f"no decision with id {decision_id!r}")
    labels = get_spec(conn, row.service).decisions
    if decision not in labels:
        raise InvalidInput(f"decision must be one of {', '.join(labels)}, got {decision!r}")
    if not reviewer.strip():
        raise InvalidInput("reviewer must name the case worker")
    # A manual case had no automated answer to confirm or correct: the case worker decides it.
    outcome = "decided" if row.decision is None else ("confirmed" if decision == row.decision else "corrected")
    now = ctx.clock.now()
    conn.execute(feedback.insert().values(decision_id=decision_id, outcome=outcome, decision=decision,
                                          reason=reason, reviewer=reviewer, at=now))
    record_event(conn, at=now, actor=reviewer, action=f"decision.{outcome}", subject=f"{row.service}/{decision_id}",
                 details={"decision": decision, "original": row.decision, "reason": reason})
    return {"decision_id": decision_id, "outcome": outcome, "decision": decision, "reviewer": reviewer,
            "at": now.isoformat()}


def record_feedback(ctx: Context, decision_id: str, *, decision: str, reason: str, reviewer: str) -> dict:
    """A case worker confirms or corrects a decision (audited)."""
    with connect(ctx.engine) as conn:
        out = record_feedback_in(conn, ctx, decision_id, decision=decision, reason=reason, reviewer=reviewer)
        # Feedback on a queued case also settles the queue item.
        conn.execute(manual_reviews.update().where(manual_reviews.c.decision_id == decision_id,
                                                   manual_reviews.c.status != "resolved")
                     .values(status="resolved", resolved_at=ctx.clock.now()))
    return out
