"""A case worker's confirmation or correction of a decision: the ground truth for its model.

A decision has at most one current verdict. A later one supersedes it (its history is kept:
the earlier row names the one that replaced it), so the judge counts each decision once however
often feedback is posted. A case in the review queue claimed by one case worker is answered by
that case worker only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from relevo.audit import record_change
from relevo.casework.access import acting_reviewer
from relevo.context import Context
from relevo.errors import Conflict, InvalidInput, NotFound
from relevo.services.catalogue import get_spec
from relevo.store import connect, storable_text
from relevo.store.tables import decisions, feedback, manual_reviews


Outcome = Literal["confirmed", "corrected", "decided"]


@dataclass(frozen=True)
class FeedbackRecorded:
    """A case worker's verdict on a decision, as recorded."""

    decision_id: str
    outcome: Outcome
    decision: str
    reviewer: str
    at: datetime
    supersedes: int | None  # the earlier verdict this one replaces, if any


def check_reviewer(reviewer: str) -> None:
    """InvalidInput when the reviewer cannot be stored or names nobody."""
    storable_text("reviewer", reviewer)
    if not reviewer.strip():
        raise InvalidInput("reviewer must name the case worker")


def check_verdict(decision: str, reason: str, reviewer: str) -> None:
    """InvalidInput when a verdict's texts cannot be stored or name nobody."""
    storable_text("decision", decision, required=True)
    storable_text("reason", reason)
    check_reviewer(reviewer)


def record_feedback_in(conn: Connection, ctx: Context, decision_id: str, *, decision: str, reason: str,
                       reviewer: str) -> FeedbackRecorded:
    """Record feedback inside the caller's transaction ('confirmed' when it agrees with the answer,
    or with the answer proposed for review); a verdict on a queued case resolves it."""
    check_verdict(decision, reason, reviewer)
    row = conn.execute(select(decisions.c.service, decisions.c.decision).where(decisions.c.id == decision_id)).first()
    if row is None:
        raise NotFound(f"no decision with id {decision_id!r}")
    labels = get_spec(conn, row.service).decisions
    if decision not in labels:
        raise InvalidInput(f"decision must be one of {', '.join(labels)}, got {decision!r}")
    review = conn.execute(select(manual_reviews.c.status, manual_reviews.c.claimed_by)
                          .where(manual_reviews.c.decision_id == decision_id).with_for_update()).first()
    if review is not None and review.status == "claimed" and review.claimed_by != reviewer:
        raise Conflict(f"decision {decision_id!r} is claimed by {review.claimed_by} in the review queue; only they "
                       f"can answer it")
    previous = conn.execute(select(feedback.c.id, feedback.c.decision, feedback.c.reviewer)
                            .where(feedback.c.decision_id == decision_id, feedback.c.superseded_at.is_(None))
                            .with_for_update()).first()
    # A manual case had no automated answer to confirm or correct: the case worker decides it.
    outcome: Outcome = "decided" if row.decision is None else ("confirmed" if decision == row.decision else "corrected")
    now = ctx.clock.now()
    try:
        if previous is not None:
            conn.execute(feedback.update().where(feedback.c.id == previous.id).values(superseded_at=now))
        feedback_id = conn.execute(feedback.insert().values(
            decision_id=decision_id, outcome=outcome, decision=decision, reason=reason, reviewer=reviewer,
            at=now)).inserted_primary_key[0]
        if previous is not None:
            conn.execute(feedback.update().where(feedback.c.id == previous.id).values(superseded_by=feedback_id))
    except IntegrityError:
        raise Conflict(f"another verdict on decision {decision_id!r} was recorded at the same moment; read it "
                       f"and retry") from None
    if review is not None and review.status != "resolved":  # a verdict on a queued case settles it
        conn.execute(manual_reviews.update().where(manual_reviews.c.decision_id == decision_id)
                     .values(status="resolved", claimed_by=reviewer, resolved_at=now))
    details = {"decision": decision, "original": row.decision, "reason": reason}
    if previous is not None:
        details["supersedes"] = {"feedback_id": previous.id, "decision": previous.decision,
                                 "reviewer": previous.reviewer}
    record_change(conn, ctx, at=now, actor=reviewer, action=f"decision.{outcome}", subject=f"{row.service}/{decision_id}",
                 details=details)
    return FeedbackRecorded(decision_id, outcome, decision, reviewer, now,
                            previous.id if previous is not None else None)


def record_feedback(ctx: Context, decision_id: str, *, decision: str, reason: str,
                    reviewer: str | None = None) -> FeedbackRecorded:
    """A case worker (the caller, with identities) confirms or corrects a decision (audited); a
    later verdict supersedes an earlier one."""
    with connect(ctx.engine) as conn:
        reviewer = acting_reviewer(conn, ctx, decision_id, reviewer)
        return record_feedback_in(conn, ctx, decision_id, decision=decision, reason=reason, reviewer=reviewer)
