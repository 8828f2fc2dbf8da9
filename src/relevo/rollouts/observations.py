"""What a rollout step observed, read from the decision log as arrays for the judge.

Decisions are tagged with the step that routed them (the route's `step` label), so a step's
evidence is exactly the decisions made under it, in the order they were made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence
from datetime import datetime

import numpy as np
from sqlalchemy import Connection, select

from relevo.store.tables import decisions, feedback, shadow_decisions

MODEL_FAILURES = ("error", "timeout", "invalid_output", "circuit_open", "unavailable")


@dataclass(frozen=True)
class StepObservations:
    """Per decision, in time order: arm, outcome, latency, failure, correction, protected values."""

    candidate: np.ndarray  # bool: answered under the candidate arm
    decision: np.ndarray  # object: the label given (None for manual)
    latency_ms: np.ndarray  # float
    failed: np.ndarray  # bool: the routed model failed and the fallback answered
    corrected: np.ndarray  # bool: a case worker's current verdict on it is a correction
    reviewed: np.ndarray  # bool: a case worker gave a verdict on it (confirmed or corrected)
    held: np.ndarray  # bool: the review policy held its automated answer back for a case worker
    created_at: np.ndarray  # datetime64
    inputs: list[dict]  # minimised inputs (protected attributes for fairness)
    shadow_decision: np.ndarray  # object: the candidate's shadow answer (None when none)
    shadow_failed: np.ndarray  # bool
    shadow_latency_ms: np.ndarray  # float (nan when none)

    @property
    def n(self) -> int:
        """Decisions observed."""
        return int(self.candidate.size)

    @property
    def shadowed(self) -> np.ndarray:
        """bool: the candidate answered a shadow copy of the case (with a label, or failing)."""
        return (self.shadow_decision != None) | self.shadow_failed  # noqa: E711 (elementwise)


def observe_step(conn: Connection, step_label: str,
                 attributes: Sequence[str] | None = None) -> StepObservations:
    """Every decision made under step_label, with its shadow answer and any correction.

    attributes: the inputs to read back (the protected ones a fairness criterion or a report
    splits by); None reads them all. Each decision's inputs are a JSON document: reading only a
    few keys of it is most of the cost of a large step saved.
    """
    # One current verdict per decision at most (a later one supersedes it), so each decision
    # counts once however often feedback was posted.
    current = (select(feedback.c.decision_id, feedback.c.outcome)
               .where(feedback.c.superseded_at.is_(None))).subquery()
    wanted = [decisions.c.inputs] if attributes is None else [
        decisions.c.inputs[name].label(f"input_{i}") for i, name in enumerate(attributes)]
    query = (
        select(decisions.c.arm, decisions.c.decision, decisions.c.latency_ms, decisions.c.fallback_cause,
               decisions.c.review, decisions.c.created_at, *wanted, current.c.outcome.label("feedback"),
               shadow_decisions.c.decision.label("shadow_decision"), shadow_decisions.c.error.label("shadow_error"),
               shadow_decisions.c.latency_ms.label("shadow_latency"))
        .select_from(decisions.outerjoin(shadow_decisions, shadow_decisions.c.decision_id == decisions.c.id)
                     .outerjoin(current, current.c.decision_id == decisions.c.id))
        # The step's label names its rollout (`rollout-7/step-2-canary`), so it alone picks the step's
        # decisions: adding the service and environment made SQLite read them through the index on
        # those two, every decision of the service's history, instead of the step's own index.
        .where(decisions.c.step == step_label)
        .order_by(decisions.c.created_at, decisions.c.id)
    )
    rows = conn.execute(query).all()
    return StepObservations(
        candidate=np.array([r.arm == "candidate" for r in rows], dtype=bool),
        decision=np.array([r.decision for r in rows], dtype=object),
        latency_ms=np.array([r.latency_ms for r in rows], dtype=float),
        failed=np.array([r.fallback_cause in MODEL_FAILURES for r in rows], dtype=bool),
        corrected=np.array([r.feedback == "corrected" for r in rows], dtype=bool),
        reviewed=np.array([r.feedback in ("confirmed", "corrected") for r in rows], dtype=bool),
        held=np.array([r.review is not None for r in rows], dtype=bool),
        created_at=np.array([np.datetime64(r.created_at.replace(tzinfo=None), "us") for r in rows],
                            dtype="datetime64[us]"),
        inputs=([r.inputs or {} for r in rows] if attributes is None else
                [{name: value for i, name in enumerate(attributes) if (value := r._mapping[f"input_{i}"]) is not None}
                 for r in rows]),
        shadow_decision=np.array([r.shadow_decision for r in rows], dtype=object),
        shadow_failed=np.array([r.shadow_error is not None for r in rows], dtype=bool),
        shadow_latency_ms=np.array([np.nan if r.shadow_latency is None else r.shadow_latency for r in rows]),
    )


def older_than(obs: StepObservations, now: datetime, delay_s: float) -> np.ndarray:
    """Mask of decisions made at least delay_s before now (old enough to have been reviewed)."""
    cutoff = np.datetime64(now.replace(tzinfo=None), "us") - np.timedelta64(int(delay_s * 1e6), "us")
    return obs.created_at <= cutoff
