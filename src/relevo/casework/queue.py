"""The manual-review queue, worked by case workers: cases no model or rule answered, and cases
whose automated answer the spec's review policy holds back until a case worker decides."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select

from relevo.audit import record_change
from relevo.casework.access import acting_reviewer, may, visible_inputs
from relevo.casework.feedback import FeedbackRecorded, check_reviewer, record_feedback_in
from relevo.context import Context
from relevo.errors import Conflict, InvalidInput, NotFound
from relevo.store import connect, storable_text
from relevo.store.tables import decisions, manual_reviews

STATUSES = ("open", "claimed", "resolved")


SEE_QUEUE = ("case_worker", "dpo")


@dataclass(frozen=True)
class QueuedCase:
    """A case in the manual-review queue."""

    decision_id: str
    reference: str
    service: str
    status: str
    claimed_by: str | None
    cause: str | None  # why no model or rule answered
    review: str | None  # why the review policy held the automated answer back
    proposed: str | None  # that answer, for the case worker to confirm or correct
    inputs: dict[str, Any]
    queued_at: datetime


@dataclass(frozen=True)
class Claimed:
    """A queued case taken by a case worker."""

    decision_id: str
    claimed_by: str
    status: Literal["claimed"] = "claimed"


@dataclass(frozen=True)
class Resolved(FeedbackRecorded):
    """A queued case decided by its case worker (recorded as the decision's feedback)."""

    status: Literal["resolved"] = "resolved"


def list_queue(ctx: Context, service: str | None = None, status: str = "open", limit: int = 100) -> list[QueuedCase]:
    """Queued cases, oldest first: those of the services the caller works (case workers, the DPO)."""
    if status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
    query = (select(manual_reviews, decisions.c.reference, decisions.c.inputs, decisions.c.fallback_cause,
                    decisions.c.review, decisions.c.decision)
             .join(decisions, decisions.c.id == manual_reviews.c.decision_id)
             .where(manual_reviews.c.status == status).order_by(manual_reviews.c.created_at).limit(limit))
    if service:
        query = query.where(manual_reviews.c.service == storable_text("service", service))
    with connect(ctx.engine) as conn:
        rows = [r for r in conn.execute(query).mappings().all() if may(ctx, SEE_QUEUE, r["service"])]
        return [QueuedCase(r["decision_id"], r["reference"], r["service"], r["status"], r["claimed_by"],
                           r["fallback_cause"], r["review"], r["decision"],
                           visible_inputs(conn, ctx, r["service"], r["inputs"]), r["created_at"])
                for r in rows]


def _open_review(conn, decision_id: str, reviewer: str):
    """The queue item, locked, if reviewer may work it; NotFound or Conflict otherwise."""
    row = conn.execute(select(manual_reviews).where(manual_reviews.c.decision_id == decision_id)
                       .with_for_update()).mappings().first()
    if row is None:
        raise NotFound(f"decision {decision_id!r} is not in the manual-review queue")
    if row["status"] == "resolved":
        raise Conflict(f"decision {decision_id!r} is already resolved")
    if row["status"] == "claimed" and row["claimed_by"] != reviewer:
        raise Conflict(f"decision {decision_id!r} is already claimed by {row['claimed_by']}")
    return row


def claim(ctx: Context, decision_id: str, reviewer: str | None = None) -> Claimed:
    """A case worker (the caller, with identities) takes a queued case; a case already claimed by
    someone else is a Conflict."""
    with connect(ctx.engine) as conn:
        reviewer = acting_reviewer(conn, ctx, decision_id, reviewer)
        check_reviewer(reviewer)
        row = _open_review(conn, decision_id, reviewer)
        now = ctx.clock.now()
        conn.execute(manual_reviews.update().where(manual_reviews.c.decision_id == decision_id)
                     .values(status="claimed", claimed_by=reviewer, claimed_at=now))
        record_change(conn, ctx, at=now, actor=reviewer, action="review.claimed", subject=f"{row['service']}/{decision_id}")
    return Claimed(decision_id, reviewer)


def resolve(ctx: Context, decision_id: str, *, decision: str, reason: str, reviewer: str | None = None) -> Resolved:
    """A case worker decides a queued case; the resolution is recorded as the decision's feedback."""
    with connect(ctx.engine) as conn:
        reviewer = acting_reviewer(conn, ctx, decision_id, reviewer)
        _open_review(conn, decision_id, reviewer)
        out = record_feedback_in(conn, ctx, decision_id, decision=decision, reason=reason, reviewer=reviewer)
    return Resolved(**vars(out))
