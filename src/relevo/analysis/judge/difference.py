"""Difference form for absolute tolerances: is p_cand - p_stable above tol ("+3 points")?

Every decision counts, not only events. Decision i goes to the candidate (A_i = 1) with the known
probability w_i, independently of its outcome (sticky hashing of the case id), and Y_i is 0/1.
The inverse-probability contrast

    Z_i = Y_i * (A_i / w_i - (1 - A_i) / (1 - w_i))

has conditional mean p_cand - p_stable whatever w_i is, and lies in [-1/(1-w_i), 1/w_i], known
before the decision. So the betting confidence sequence for bounded means (betting.py) gives a
running interval for the difference and e-processes for "difference <= tol" (harm) and
"difference >= tol" (non-inferiority). Valid for any weight schedule, but wide at small
weights: a candidate event at w = 5% is worth 20, so the variance is about p_cand / w.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .betting import BettingMean


def contrast(y, a, w):
    """Inverse-probability contrast Z_i, whose mean is p_cand - p_stable."""
    y, a, w = (np.asarray(v, dtype=float) for v in (y, a, w))
    return y * (a / w - (1 - a) / (1 - w))


def contrast_bounds(w):
    """Range [-1/(1-w), 1/w] of Z_i, known before the decision."""
    w = np.asarray(w, dtype=float)
    return -1 / (1 - w), 1 / w


@dataclass(frozen=True, eq=False)  # holds arrays: compare by identity
class DifferenceState:
    """Streaming difference-form evidence; update() returns a new state."""

    mean: BettingMean
    n: int  # decisions
    n_candidate: int

    @classmethod
    def start(cls, tol: float = 0.0, alpha: float = 0.05, points: int = 401) -> DifferenceState:
        """State before any decision, testing against the absolute tolerance tol."""
        # The difference of two rates lies in [-1, 1]; prior guess: no difference, variance 1
        # (about the variance of Z for a 5% rate at a 5% weight).
        return cls(BettingMean.start(-1.0, 1.0, alpha, tol, 0.0, 1.0, points), 0, 0)

    def update(self, y, a, w) -> DifferenceState:
        """Add a batch of decisions: outcome y, arm a (1 = candidate), candidate weight w."""
        return self.update_batches([0], y, a, w)

    def update_batches(self, starts, y, a, w) -> DifferenceState:
        """Add consecutive batches of decisions in one pass (batch j starts at row starts[j])."""
        y = np.atleast_1d(np.asarray(y))
        a = np.atleast_1d(np.asarray(a))
        w = np.broadcast_to(np.asarray(w, dtype=float), y.shape)
        if a.shape != y.shape:
            raise ValueError(f"y and a must have the same length, got {y.shape} and {a.shape}")
        for name, v in (("y", y), ("a", a)):
            if v.size and not np.all((v == 0) | (v == 1)):
                raise ValueError(f"{name} must hold only 0 and 1")
        if np.any(~((w > 0) & (w < 1))):
            raise ValueError("weights must lie strictly between 0 and 1 (both arms need traffic)")
        lo, hi = contrast_bounds(w)
        return replace(self, mean=self.mean.update_batches(starts, contrast(y, a, w), lo, hi), n=self.n + y.size,
                       n_candidate=self.n_candidate + int(a.sum()))

    @property
    def harm_e(self) -> float:
        """Largest value of the e-process for "difference <= tol" so far."""
        return self.mean.harm_e

    @property
    def noninferiority_e(self) -> float:
        """Largest value of the e-process for "difference >= tol" so far."""
        return self.mean.noninferiority_e

    @property
    def interval(self) -> tuple[float, float]:
        """Confidence sequence for p_cand - p_stable."""
        return self.mean.interval

    @property
    def estimate(self) -> float | None:
        """Unbiased running estimate of p_cand - p_stable (None before any decision)."""
        return self.mean.estimate
