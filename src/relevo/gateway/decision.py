"""A decision: the answer one request got, as the decision log records it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Mapping

MANUAL = "manual_review"  # the decision of a case passed to a case worker
ServedBy = Literal["version", "rules", "manual"]


@dataclass(frozen=True)
class Decision:
    """The answer given to one request, as recorded."""

    id: str
    reference: str
    service: str
    environment: str
    decision: str
    served_by: ServedBy
    version: str | None
    arm: str | None
    probabilities: dict[str, float] | None
    fallback_cause: str | None
    latency_ms: float
    created_at: datetime
    replayed: bool = False  # the decision recorded earlier for the same Idempotency-Key
    # Why a case worker decides this case before any answer takes effect (the spec's review
    # policy); the decision is then MANUAL, and the answer proposed is in the log only.
    review: str | None = None

    @property
    def message(self) -> str:
        """What the citizen is told."""
        if self.review is not None:
            return f"passed to a case worker for review, reference {self.reference}"
        if self.served_by == "manual":
            return f"passed to manual review, reference {self.reference}"
        return f"decision {self.decision}, reference {self.reference}"

    @classmethod
    def replayed_from(cls, row: Mapping[str, Any], version: str | None) -> "Decision":
        """The decision a decision-log row holds, replayed for a retried request."""
        answer = MANUAL if row["review"] is not None else row["decision"] or MANUAL
        return cls(row["id"], row["reference"], row["service"], row["environment"], answer,
                   row["served_by"], version, row["arm"], row["probabilities"], row["fallback_cause"],
                   row["latency_ms"], row["created_at"], replayed=True, review=row["review"])


@dataclass(frozen=True)
class Outcome:
    """How a decision was reached, before it is recorded."""

    decision: str
    served_by: ServedBy
    probabilities: dict[str, float] | None = None
    cause: str | None = None
    model_ms: float | None = None
