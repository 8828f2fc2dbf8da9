"""What both one-arm planners report of a step: a criterion read on the candidate's answers alone.

relevo.analysis.judge.share_power (a share under a limit) and fairness_power (a selection-rate
ratio) each simulate their test; what a step then shows, catches and would need is read the
same way from the numbers they find.
"""

from __future__ import annotations

from .durations import duration_text
from .power import POWER


class CandidateAlone:
    """Readings of `decisions`, `hours`, `needed` and `caught`, which the planner's dataclass holds."""

    decisions: int  # the candidate's answers expected in the step
    hours: float
    needed: int | None  # answers by which 80% of runs pass (None: not within reach)
    caught: float  # share of runs at the harm the step must catch that roll back within it

    @property
    def shows(self) -> bool:
        """A candidate as assumed passes within the step in >= POWER of runs."""
        return self.needed is not None and self.needed <= self.decisions

    @property
    def meets(self) -> bool:
        """A candidate at the harm the step must catch is rolled back within it in >= POWER of runs."""
        return self.caught >= POWER

    @property
    def shown_after(self) -> str | None:
        """When it passes, as people write durations (None: not within the step)."""
        hours = self.needed_hours()
        return duration_text(hours) if self.shows and hours is not None else None

    def needed_hours(self) -> float | None:
        """How long a step at this rate of answers would need to pass it (None: too long to say)."""
        if self.needed is None or self.decisions == 0:
            return None
        return self.hours * self.needed / self.decisions
