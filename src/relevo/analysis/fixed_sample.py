"""Intervals for one look at a fixed set of cases (a test suite's reference set), honest at small counts.

The judge's intervals are anytime-valid because a rollout is watched as it runs; a test suite
reads its reference set once, so exact fixed-sample intervals apply and are narrower.

- A rate: Clopper-Pearson, exact (never below its level, however few the cases).
- A paired change (candidate minus stable, on the same cases): with n cases, g where only the
  candidate is right and l where only the stable one is, the change is (g - l) / n = q (2 pi - 1)
  for the discordant share q = (g + l) / n and pi = g / (g + l). Each gets an exact interval at
  alpha / 2 (Bonferroni: both hold together with probability at least 1 - alpha, pi's conditionally
  on the discordant count, so unconditionally too), and the change's interval is the range of
  q (2 pi - 1) over that box. With no discordant case at all the interval still has the width q's
  upper end allows: five agreeing cases do not prove two versions equal.
- A selection-rate ratio across groups (min over max, the disparate-impact ratio): each group's
  exact interval at alpha / k, so all k hold together, and the ratio's range over that box.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping


from relevo.analysis.judge.proportion import disparate_impact_interval


def exact_interval(successes: int, n: int, alpha: float) -> tuple[float, float]:
    """Clopper-Pearson interval for a proportion, two-sided at level 1 - alpha ((0, 1) when n is 0)."""
    from scipy.special import betaincinv  # imported when needed: scipy.special adds ~0.1 s to every command's start

    if n == 0:
        return 0.0, 1.0
    # The Beta distribution's quantiles (scipy.special's, without importing scipy.stats: half a
    # second at every start of the command line).
    lower = float(betaincinv(successes, n - successes + 1, alpha / 2)) if successes > 0 else 0.0
    upper = float(betaincinv(successes + 1, n - successes, 1 - alpha / 2)) if successes < n else 1.0
    return lower, upper


@dataclass(frozen=True)
class PairedChange:
    """Candidate minus stable on the same cases: the estimate and its interval."""

    n: int
    gains: int  # cases only the candidate gets right
    losses: int  # cases only the stable version gets right
    lower: float
    upper: float

    @property
    def estimate(self) -> float:
        """(gains - losses) / n."""
        return (self.gains - self.losses) / self.n if self.n else 0.0


def paired_change(gains: int, losses: int, n: int, alpha: float) -> PairedChange:
    """The change in a paired share (accuracy, a label's recall) with its exact-box interval."""
    if n == 0:
        return PairedChange(0, 0, 0, -1.0, 1.0)
    discordant = gains + losses
    q_lo, q_hi = exact_interval(discordant, n, alpha / 2)
    p_lo, p_hi = exact_interval(gains, discordant, alpha / 2)
    # q (2 pi - 1) is linear in each: its extremes lie at the box's corners.
    corners = [q * (2 * p - 1) for q in (q_lo, q_hi) for p in (p_lo, p_hi)]
    return PairedChange(n, gains, losses, max(-1.0, min(corners)), min(1.0, max(corners)))


@dataclass(frozen=True)
class SelectionRatio:
    """The ratio of the lowest group's selection rate to the highest's, with its interval."""

    rates: dict[str, tuple[int, int]]  # group: (selected, cases)
    estimate: float | None  # None when the highest rate is 0 (no group selected at all)
    lower: float
    upper: float


def selection_ratio(counts: Mapping[str, tuple[int, int]], alpha: float) -> SelectionRatio:
    """min/max of the groups' selection rates, with an interval from exact group intervals held together."""
    seen = {group: c for group, c in counts.items() if c[1] > 0}
    if len(seen) < 2:
        raise ValueError("a selection-rate ratio needs at least two groups with cases")
    rates = [s / n for s, n in seen.values()]
    estimate = min(rates) / max(rates) if max(rates) > 0 else None
    bounds = {group: exact_interval(s, n, alpha / len(seen)) for group, (s, n) in seen.items()}
    lower, upper = disparate_impact_interval(bounds)
    return SelectionRatio(dict(seen), estimate, lower, upper)
