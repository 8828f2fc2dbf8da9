"""Paired evidence for shadow and replay: both versions answered the same case.

For a decision label of interest (e.g. "reject"), c_i and s_i are 1 when the candidate and the
stable version gave it on case i. W_i = c_i - s_i in {-1, 0, 1} has mean p_cand - p_stable, and
pairing removes the case-to-case variation that a two-arm comparison must pay for, so:

- a betting confidence sequence on W (range [-1, 1]) gives the rate difference, with harm and
  non-inferiority e-processes at an absolute tolerance;
- among discordant pairs only, "candidate only" versus "stable only" is a fair coin when the
  two rates are equal: a sequential McNemar test, the Beta mixture on that coin (closed form,
  beta_mixture.py), two-sided and one-sided ("candidate gives the label more often");
- agreement (c_i == s_i, or a full-label agreement the caller supplies) is a mean in [0, 1]
  with its own betting confidence sequence;
- the flip table counts (c, s) = (1,1), (1,0), (0,1), (0,0); intervals for its cells can come
  from proportion.rate_interval with alpha split over the cells.

Per protected group: keep one state per group and split alpha across groups.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from . import beta_mixture
from ._grid import e_value
from .betting import BettingMean
from .looks import batch_starts, batch_sums, carried


@dataclass(frozen=True, eq=False)  # holds arrays: compare by identity
class PairedState:
    """Streaming paired evidence; update() returns a new state."""

    difference: BettingMean  # W = c - s in [-1, 1]
    agreement: BettingMean  # 1{agree} in [0, 1]
    both: int  # (c, s) = (1, 1)
    candidate_only: int  # (1, 0): W = +1
    stable_only: int  # (0, 1): W = -1
    neither: int  # (0, 0)
    max_log_mcnemar: float  # two-sided, H0: the discordant coin is fair
    max_log_mcnemar_harm: float  # H0: candidate-only share of discordant pairs <= 1/2

    @classmethod
    def start(cls, tol: float = 0.0, alpha: float = 0.05, points: int = 401) -> PairedState:
        """State before any pair, with harm/non-inferiority tests at difference tol."""
        return cls(BettingMean.start(-1.0, 1.0, alpha, tol, points=points),
                   BettingMean.start(0.0, 1.0, alpha, points=points), 0, 0, 0, 0, 0.0, 0.0)

    def update(self, c, s, agree=None) -> PairedState:
        """Add a batch of pairs: c, s in {0, 1}; agree defaults to c == s."""
        return self.update_batches([0], c, s, agree)

    def update_batches(self, starts, c, s, agree=None) -> PairedState:
        """Add consecutive batches of pairs in one pass (batch j starts at row starts[j])."""
        c = np.atleast_1d(np.asarray(c))
        s = np.atleast_1d(np.asarray(s))
        if c.shape != s.shape or c.ndim != 1:
            raise ValueError(f"c and s must be one-dimensional and equally long, got {c.shape} and {s.shape}")
        for name, v in (("c", c), ("s", s)):
            if v.size and not np.all((v == 0) | (v == 1)):
                raise ValueError(f"{name} must hold only 0 and 1")
        c, s = c.astype(int), s.astype(int)
        agree = (c == s) if agree is None else np.atleast_1d(np.asarray(agree))
        if agree.shape != c.shape or (agree.size and not np.all((agree == 0) | (agree == 1))):
            raise ValueError("agree must hold one 0/1 value per pair")
        starts = batch_starts(starts, c.size)
        if starts.size == 0:
            return self
        # the discordant counts after each batch: the McNemar tests look once a batch
        up = carried(self.candidate_only, batch_sums((c == 1) & (s == 0), starts))[1:]
        down = carried(self.stable_only, batch_sums((c == 0) & (s == 1), starts))[1:]
        return replace(
            self,
            difference=self.difference.update_batches(starts, c - s, -1.0, 1.0),
            agreement=self.agreement.update_batches(starts, agree.astype(float), 0.0, 1.0),
            both=self.both + int(np.sum((c == 1) & (s == 1))),
            candidate_only=int(up[-1]),
            stable_only=int(down[-1]),
            neither=self.neither + int(np.sum((c == 0) & (s == 0))),
            max_log_mcnemar=max(self.max_log_mcnemar, float(np.max(mcnemar_log_e(up, down)))),
            max_log_mcnemar_harm=max(self.max_log_mcnemar_harm, float(np.max(mcnemar_log_e(up, down, "greater")))),
        )

    @property
    def n(self) -> int:
        """Pairs seen."""
        return self.both + self.candidate_only + self.stable_only + self.neither

    @property
    def flip_table(self) -> dict[str, int]:
        """Counts of (candidate, stable) outcomes."""
        return {"both": self.both, "candidate_only": self.candidate_only,
                "stable_only": self.stable_only, "neither": self.neither}

    @property
    def mcnemar_e(self) -> float:
        """Largest two-sided McNemar e-value so far (H0: equal rates)."""
        return e_value(self.max_log_mcnemar)

    @property
    def mcnemar_harm_e(self) -> float:
        """Largest one-sided McNemar e-value so far (H0: p_cand <= p_stable)."""
        return e_value(self.max_log_mcnemar_harm)


def mcnemar_log_e(candidate_only, stable_only, side: str = "two-sided", a: float = 0.5, b: float = 0.5):
    """Sequential McNemar log e-value: Beta mixture against a fair coin among discordant pairs."""
    # Among discordant pairs P(candidate only) = p10 / (p10 + p01), which is 1/2 exactly when
    # p_cand - p_stable = p10 - p01 = 0, and above 1/2 exactly when the candidate is higher.
    # The discordant pairs are a random sub-sequence chosen by the data themselves, but given
    # that a pair is discordant its direction is still the fair coin, so the mixture over
    # those pairs stays a (super)martingale.
    return beta_mixture.log_e_value(candidate_only, stable_only, 0.5, side, a, b)
