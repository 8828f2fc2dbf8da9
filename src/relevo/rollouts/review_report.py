"""What the review policy did in a rollout step: answers held for a case worker, and their fate.

Pure: built from a step's counts, no I/O. A held answer was only proposed; the case
worker's answer is the decision of record, and one that differs counts as a correction, which
the judge's correction_rate criterion reads like any other case worker's verdict.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any



@dataclass(frozen=True)
class HeldAnswers:
    """One arm's automated answers held back for review, and what case workers made of them."""

    decisions: int  # the arm's decisions in the step
    held: int  # of them, held for a case worker
    answered: int  # of those, answered by a case worker (the decision of record is theirs)
    corrected: int  # of those answered, a different answer than the one proposed

    @property
    def waiting(self) -> int:
        """Held answers no case worker has answered yet: nothing has taken effect for these cases."""
        return self.held - self.answered


@dataclass(frozen=True)
class ReviewReport:
    """The review policy's work in a step, by arm (stable and candidate)."""

    arms: dict[str, HeldAnswers]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {arm: asdict(held) | {"waiting": held.waiting} for arm, held in self.arms.items()}


def review_report(decided: dict[str, int], held: dict[str, int],
                  answers: dict[str, tuple[int, int]]) -> ReviewReport:
    """How many answers each arm had held for review, answered and corrected: decided and held
    count each arm's decisions and held answers, answers its held ones (answered, corrected)."""
    return ReviewReport({arm: HeldAnswers(decisions=decided.get(arm, 0), held=held.get(arm, 0),
                                          answered=answers.get(arm, (0, 0))[0], corrected=answers.get(arm, (0, 0))[1])
                         for arm in ("stable", "candidate")})
