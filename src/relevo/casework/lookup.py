"""Reading a recorded decision back, with its shadow answer, feedback and review state."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from relevo.casework.access import may, require, visible_inputs
from relevo.context import Context
from relevo.errors import NotFound
from relevo.gateway.pseudonym import Keyring
from relevo.registry import version_names
from relevo.services.catalogue import get_spec
from relevo.store import connect
from relevo.store.tables import decisions, feedback, manual_reviews, shadow_decisions


@dataclass(frozen=True)
class ShadowAnswer:
    """What the shadow (candidate) version answered for the same case."""

    version: str | None
    decision: str | None
    latency_ms: float | None
    error: str | None


@dataclass(frozen=True)
class FeedbackNote:
    """One verdict on a decision; current is False once a later one superseded it."""

    outcome: str
    decision: str
    reason: str
    reviewer: str
    at: datetime
    current: bool


@dataclass(frozen=True)
class ReviewState:
    """Where the case stands in the manual-review queue."""

    status: str
    claimed_by: str | None
    resolved_at: datetime | None
    reason: str | None = None  # why the review policy held the automated answer back
    proposed: str | None = None  # that answer (withheld from clients)


@dataclass(frozen=True)
class RecordedDecision:
    """A decision read back from the log, with its shadow answer, feedback and review state."""

    decision_id: str
    reference: str
    service: str
    environment: str
    decision: str
    served_by: str
    version: str | None
    arm: str | None
    routed_version: str | None
    probabilities: dict[str, float] | None
    fallback_cause: str | None
    latency_ms: float
    inputs: dict[str, Any]
    step: str | None
    created_at: datetime
    shadow: ShadowAnswer | None
    feedback: list[FeedbackNote]
    review: ReviewState | None


def get_decision(conn: Connection, decision_id: str) -> RecordedDecision:
    """One decision as recorded, inside the caller's transaction, or NotFound."""
    row = conn.execute(select(decisions).where(decisions.c.id == decision_id)).mappings().first()
    if row is None:
        raise NotFound(f"no decision with id {decision_id!r}")
    shadow = conn.execute(select(shadow_decisions).where(shadow_decisions.c.decision_id == decision_id)).mappings().first()
    notes = conn.execute(select(feedback).where(feedback.c.decision_id == decision_id).order_by(feedback.c.id)).mappings().all()
    review = conn.execute(select(manual_reviews).where(manual_reviews.c.decision_id == decision_id)).mappings().first()
    names = version_names(conn, {row["routed_version_id"], shadow["version_id"] if shadow else None})
    served_version = names.get(row["routed_version_id"]) if row["served_by"] == "version" else None
    # The decision of record: the answer that took effect. A case in the queue has none until its
    # case worker answers, and then it is theirs (the automated answer, if any, was only proposed).
    of_record = row["decision"] if review is None and row["decision"] is not None else "manual_review"
    current = [n for n in notes if n["superseded_at"] is None]
    if review is not None and review["status"] == "resolved" and current:
        of_record = current[0]["decision"]
    return RecordedDecision(
        decision_id=row["id"], reference=row["reference"], service=row["service"],
        environment=row["environment"], decision=of_record,
        served_by=row["served_by"], version=served_version, arm=row["arm"],
        routed_version=names.get(row["routed_version_id"]),
        probabilities=row["probabilities"], fallback_cause=row["fallback_cause"],
        latency_ms=row["latency_ms"], inputs=row["inputs"], step=row["step"], created_at=row["created_at"],
        shadow=None if shadow is None else ShadowAnswer(
            names.get(shadow["version_id"]), shadow["decision"], shadow["latency_ms"], shadow["error"]),
        feedback=[FeedbackNote(n["outcome"], n["decision"], n["reason"], n["reviewer"], n["at"],
                               n["superseded_at"] is None) for n in notes],
        review=None if review is None else ReviewState(
            review["status"], review["claimed_by"], review["resolved_at"], row["review"],
            row["decision"] if row["review"] is not None else None),
    )


READ_ROLES = ("client", "case_worker", "operator", "auditor", "dpo")
SEE_PROPOSED = ("case_worker", "operator", "auditor", "dpo")


def _as_seen(conn: Connection, ctx: Context, found: RecordedDecision) -> RecordedDecision:
    """found as the caller may see it (see read_decision)."""
    found = replace(found, inputs=visible_inputs(conn, ctx, found.service, found.inputs))
    if found.review is not None and found.review.proposed is not None and not may(ctx, SEE_PROPOSED, found.service):
        found = replace(found, probabilities=None, review=replace(found.review, proposed=None))
    return found


def read_decision(ctx: Context, decision_id: str) -> RecordedDecision:
    """One decision as recorded, or NotFound; with identities, for the roles that read decisions of
    its service, personal and protected inputs withheld but from case workers and the DPO, and an
    answer held for review (with its probabilities) withheld from clients, who must not act on it."""
    with connect(ctx.engine) as conn:
        found = get_decision(conn, decision_id)
        require(ctx, READ_ROLES, found.service)
        return _as_seen(conn, ctx, found)


CASE_DECISIONS = 100  # the newest decisions of one case a lookup returns


def find_case(ctx: Context, service: str, case_id: str, keyring: Keyring) -> list[RecordedDecision]:
    """The decisions recorded for a case of service, newest first (at most CASE_DECISIONS), found
    by the case id's pseudonym under every key the keyring holds, so a decision made before a key
    rotation is found as long as it is kept; each read as read_decision reads one."""
    with connect(ctx.engine) as conn:
        get_spec(conn, service)  # NotFound naming the known services
        require(ctx, READ_ROLES, service)
        # No index on the pseudonym (the decision log's inserts stay cheap): a lookup reads the
        # service's decisions, as a person's request for their records may take a moment.
        ids = conn.execute(select(decisions.c.id).where(
            decisions.c.service == service, decisions.c.case_pseudonym.in_(sorted(set(keyring.pseudonyms(case_id).values()))))
            .order_by(decisions.c.created_at.desc(), decisions.c.id).limit(CASE_DECISIONS)).scalars().all()
        return [_as_seen(conn, ctx, get_decision(conn, decision_id)) for decision_id in ids]
