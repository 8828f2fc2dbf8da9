"""One-sample rates with confidence sequences, and fairness intervals built from them.

A rate here is the mean of 0/1 outcomes: the share of decisions over the latency budget ("p95
under 800 ms" is "the share over 800 ms is at most 5%"), or a group's selection rate. The
Beta-binomial mixture (beta_mixture.py; Robbins' conjugate mixture) gives, from the counts
alone, a confidence sequence valid at every look and e-processes against a limit p0:
harm (H0: p <= p0, e.g. "within the latency budget") and non-inferiority (H0: p >= p0).

Fairness: one confidence sequence per group, each at alpha / (number of groups), so that all
hold together with probability >= 1 - alpha (union bound). Any function of the group rates is
then bounded by its range over the box of group intervals; for ratios that range is read off
the interval ends. Conservative, but valid at small counts, where fairness questions are
usually asked.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping

import numpy as np

from . import beta_mixture
from ._grid import e_value
from .looks import batch_starts, batch_sums, carried


def rate_interval(successes: int, n: int, alpha: float, a: float = 0.5, b: float = 0.5) -> tuple[float, float]:
    """Time-uniform confidence interval for a rate from its counts (Beta-binomial mixture)."""
    if not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got {successes} of {n}")
    return beta_mixture.confidence_interval(successes, n - successes, alpha, a, b)


@dataclass(frozen=True)
class RateState:
    """Streaming one-sample rate with a confidence sequence and tests against a limit p0."""

    alpha: float
    p0: float | None
    successes: int
    failures: int
    max_log_harm: float
    max_log_noninferiority: float

    @classmethod
    def start(cls, p0: float | None = None, alpha: float = 0.05) -> RateState:
        """State before any outcome; p0 is the limit the rate is tested against."""
        if p0 is not None and not 0 < p0 < 1:
            raise ValueError(f"p0 must lie strictly between 0 and 1, got {p0}")
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha}")
        return cls(float(alpha), p0, 0, 0, 0.0, 0.0)

    def update(self, y) -> RateState:
        """Add a batch of 0/1 outcomes."""
        return self.update_batches([0], y)

    def update_batches(self, starts, y) -> RateState:
        """Add consecutive batches of 0/1 outcomes in one pass (batch j starts at row starts[j])."""
        y = np.atleast_1d(np.asarray(y))
        if y.size and not np.all((y == 0) | (y == 1)):
            raise ValueError("outcomes must be 0 or 1")
        starts = batch_starts(starts, y.size)
        if starts.size == 0:
            return self
        successes = batch_sums(y, starts)
        return self._looks(successes, np.diff(np.append(starts, y.size)) - successes)

    def update_counts(self, successes: int, failures: int) -> RateState:
        """Add a batch given as counts."""
        if successes < 0 or failures < 0:
            raise ValueError(f"counts must be non-negative, got {successes} and {failures}")
        return self._looks(np.array([successes], dtype=float), np.array([failures], dtype=float))

    def _looks(self, successes: np.ndarray, failures: np.ndarray) -> RateState:
        """The state after batches of these counts, one look each."""
        s, f = carried(self.successes, successes)[1:], carried(self.failures, failures)[1:]
        new: dict = dict(successes=int(s[-1]), failures=int(f[-1]))
        if self.p0 is not None:
            new |= dict(
                max_log_harm=max(self.max_log_harm, float(np.max(beta_mixture.log_e_value(s, f, self.p0, "greater")))),
                max_log_noninferiority=max(self.max_log_noninferiority,
                                           float(np.max(beta_mixture.log_e_value(s, f, self.p0, "less")))),
            )
        return replace(self, **new)

    @property
    def n(self) -> int:
        """Outcomes seen."""
        return self.successes + self.failures

    @property
    def estimate(self) -> float | None:
        """Observed share, or None before any outcome."""
        return self.successes / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float]:
        """Confidence sequence for the rate, this look's (it always holds the observed share)."""
        return beta_mixture.confidence_interval(self.successes, self.failures, self.alpha)

    @property
    def harm_e(self) -> float | None:
        """Largest e-value so far against "rate <= p0" (None without p0)."""
        return None if self.p0 is None else e_value(self.max_log_harm)

    @property
    def noninferiority_e(self) -> float | None:
        """Largest e-value so far against "rate >= p0" (None without p0)."""
        return None if self.p0 is None else e_value(self.max_log_noninferiority)


def group_rate_bounds(counts: Mapping[str, tuple[int, int]], alpha: float) -> dict[str, tuple[float, float]]:
    """Per-group rate intervals from (successes, n), alpha split evenly so all hold together."""
    if not counts:
        raise ValueError("no groups given")
    share = alpha / len(counts)
    return {group: rate_interval(s, n, share) for group, (s, n) in counts.items()}


def ratio_interval(numerator: tuple[float, float], denominator: tuple[float, float]) -> tuple[float, float]:
    """Interval for p_a / p_b given intervals for p_a and p_b (inf when p_b may be 0)."""
    (a_lo, a_hi), (b_lo, b_hi) = numerator, denominator
    lower = a_lo / b_hi if b_hi > 0 else 0.0
    upper = a_hi / b_lo if b_lo > 0 else np.inf
    return float(lower), float(upper)


def disparate_impact_interval(bounds: Mapping[str, tuple[float, float]]) -> tuple[float, float]:
    """Interval for min_g p_g / max_g p_g (the disparate-impact ratio) from simultaneous group bounds."""
    if len(bounds) < 2:
        raise ValueError("a disparate-impact ratio needs at least two groups")
    lows = np.array([lo for lo, _ in bounds.values()])
    highs = np.array([hi for _, hi in bounds.values()])
    # Inside the box, min p lies in [min lo, min hi] and max p in [max lo, max hi]; the ratio
    # is smallest with the smallest numerator over the largest denominator, and vice versa.
    lower = lows.min() / highs.max() if highs.max() > 0 else 0.0
    # min/max never exceeds 1; only divide when the bound is below it (no overflow near 0)
    upper = highs.min() / lows.max() if highs.min() < lows.max() else 1.0
    return float(lower), float(upper)
