"""How well a model does over a window of decisions: from feedback (the share case workers corrected,
accuracy where the outcome is known) and, before feedback arrives, from the model's own
probabilities (confidence-based performance estimation, for calibrated models); and the gaps
between a protected input's groups.

Every interval holds at its level however few the cases: Clopper-Pearson for a rate, a box of
exact group intervals held together (alpha split across groups) for a gap between groups, and a
Bernstein bound for the realised accuracy of decisions whose chances of being right are known.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np
from numpy.typing import ArrayLike

from relevo.analysis.fixed_sample import exact_interval


@dataclass(frozen=True)
class Rate:
    """successes of n, with the share and its exact interval."""

    successes: int
    n: int
    estimate: float | None
    lower: float
    upper: float


def rate(successes: int, n: int, alpha: float = 0.05) -> Rate:
    """A share with its Clopper-Pearson interval (no estimate, and the interval [0, 1], when n is 0)."""
    lower, upper = exact_interval(successes, n, alpha)
    return Rate(successes, n, successes / n if n else None, lower, upper)


@dataclass(frozen=True)
class Estimated:
    """The accuracy a model's probabilities predict for its decisions, and the interval the realised
    accuracy lies in if they are calibrated."""

    n: int
    estimate: float | None
    lower: float
    upper: float


def expected_accuracy(confidence: ArrayLike, alpha: float = 0.05) -> Estimated:
    """Confidence-based performance estimation: each decision is right with the probability the model
    gave its answer, so the expected accuracy is their mean; the realised accuracy of n independent
    such decisions lies within Bernstein's bound of it with probability at least 1 - alpha."""
    p = np.clip(np.asarray(confidence, dtype=float), 0.0, 1.0)
    n = int(p.size)
    if n == 0:
        return Estimated(0, None, 0.0, 1.0)
    mean = float(p.mean())
    variance = float(np.sum(p * (1 - p)))
    # Bernstein's inequality for the sum of n independent centred terms in [-1, 1] with variance V,
    # P(|S| >= t) <= 2 exp(-t^2 / (2 (V + t / 3))), solved for t at alpha.
    log_term = math.log(2 / alpha)
    half = (log_term / 3 + math.sqrt(log_term ** 2 / 9 + 2 * variance * log_term)) / n
    return Estimated(n, mean, max(0.0, mean - half), min(1.0, mean + half))


@dataclass(frozen=True)
class Gap:
    """The largest difference of a rate between groups, with an interval from the groups' exact
    intervals held together."""

    rates: dict[str, tuple[int, int]]  # group: (successes, n)
    estimate: float | None
    lower: float
    upper: float


def rate_gap(counts: Mapping[str, tuple[int, int]], alpha: float = 0.05) -> Gap:
    """max minus min of the groups' rates (groups with cases only), its interval from each group's
    Clopper-Pearson interval at alpha / groups."""
    seen = {group: c for group, c in counts.items() if c[1] > 0}
    if len(seen) < 2:
        raise ValueError("a gap between groups needs at least two groups with cases")
    shares = [s / n for s, n in seen.values()]
    bounds = [exact_interval(s, n, alpha / len(seen)) for s, n in seen.values()]
    lows, highs = [b[0] for b in bounds], [b[1] for b in bounds]
    # Over the box, the gap is smallest with every rate as close as the intervals allow.
    return Gap(dict(seen), max(shares) - min(shares), max(0.0, max(lows) - min(highs)), max(highs) - min(lows))
