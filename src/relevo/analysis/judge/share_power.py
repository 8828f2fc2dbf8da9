"""Planning a share under a limit (latency: the share of answers over budget) before a step runs.

The judge tests such a criterion on the candidate's answers alone (relevo.analysis.judge.
proportion.RateState, a Beta-mixture e-process against the limit p0, read after every batch of
10): it passes once the non-inferiority e-value (H0: share >= limit) has reached 1/alpha and the
criterion's minimum sample is in, and it rolls back once the harm e-value (H0: share <= limit)
has. This module runs that test by Monte Carlo, many runs at once, on answers over budget drawn
independently at a constant share:

- when does a candidate whose share is the one assumed (the stable version's observed share, or
  half the limit where none was seen) pass, in 80% of runs, and how many answers would that
  take when the step is too short;
- does the step catch a candidate at twice the limit (capped half-way to 1) in 80% of runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .beta_mixture import log_e_value
from .alone import CandidateAlone
from .power import BATCH, POWER, RUNS

MAX_DECISIONS = 500_000  # how far past the step `needed` is searched
_BATCHES_PER_CHUNK = 2_000


@dataclass(frozen=True)
class SharePlan(CandidateAlone):
    """What the one-sample test of a share under its limit can see in one step."""

    name: str
    alpha: float  # the criterion's share of the step's alpha
    decisions: int  # the candidate's answers expected in the step
    hours: float
    share: float  # assumed for a candidate as good as stable
    share_source: str  # where the assumed share comes from
    limit: float
    min_sample: int
    needed: int | None  # answers by which 80% of runs pass (None: not within MAX_DECISIONS)
    must_catch: float  # the share the step must catch: twice the limit, capped half-way to 1
    caught: float  # share of runs at must_catch that roll back within the step

    unit = "answers"

    @property
    def test(self) -> str:
        """The test and what it assumes, for a report's table."""
        return f"one-sample at {self.share:.1%} over ({self.share_source})"

    @property
    def bound(self) -> str:
        """The criterion's limit, as a report says it."""
        return f"at most {self.limit:.0%} over budget"

    @property
    def harm(self) -> str:
        """The candidate the step must roll back."""
        return f"{self.must_catch:.0%} over budget"

    @property
    def claim(self) -> str:
        """What a pass shows."""
        return "the share over budget under its limit"

    @property
    def unreachable(self) -> str:
        """Why no step within reach shows it."""
        return (f"a candidate at {self.share:.1%} over budget is not shown under {self.limit:.0%} within "
                f"50 times this step's answers: a wider max_share or a faster version")


def _first_crossing(share: float, limit: float, side: str, level: float, decisions: int, runs: int,
                    rng: np.random.Generator) -> np.ndarray:
    """Per run, the answers after which the e-value of `side` first reaches exp(level) (inf: not by `decisions`)."""
    first = np.full(runs, np.inf)
    successes = np.zeros(runs)
    batches = math.ceil(decisions / BATCH)
    done = 0
    while done < batches and np.isinf(first).any():
        size = min(_BATCHES_PER_CHUNK, batches - done)
        counts = np.full(size, BATCH)
        if done + size == batches and decisions % BATCH:
            counts[-1] = decisions % BATCH  # the step's last look reads a partial batch
        n = done * BATCH + np.cumsum(counts)
        s = successes[:, None] + np.cumsum(rng.binomial(counts, share, size=(runs, size)), axis=1)
        crossed = log_e_value(s, n - s, limit, side) >= level
        hit = crossed.any(axis=1)
        at = n[np.argmax(crossed, axis=1)].astype(float)
        first = np.where(np.isinf(first) & hit, at, first)
        successes = s[:, -1]
        done += size
    return first


def plan_share(name: str, decisions: int, hours: float, share: float, limit: float, alpha_metric: float,
               min_sample: int = 1, share_source: str = "", runs: int = RUNS, seed: int = 0,
               power: float = POWER) -> SharePlan:
    """The step's view of a share-under-a-limit criterion at `decisions` candidate answers."""
    if not 0 < limit < 1:
        raise ValueError(f"limit must lie strictly between 0 and 1, got {limit}")
    level = math.log(1 / alpha_metric)
    rng = np.random.default_rng(seed)
    needed = None
    if share < limit:
        horizon = min(max(decisions, 1) * 50, MAX_DECISIONS)
        # A pass needs the minimum sample too, read at the first look (a batch's end) past it.
        passes = np.maximum(_first_crossing(share, limit, "less", level, horizon, runs, rng),
                            math.ceil(min_sample / BATCH) * BATCH)
        at = float(np.quantile(passes, power, method="higher"))
        needed = None if math.isinf(at) else int(at)
    must_catch = min(2 * limit, (1 + limit) / 2)
    caught = 0.0
    if decisions > 0:
        harm = _first_crossing(must_catch, limit, "greater", level, decisions, runs, np.random.default_rng(seed + 1))
        caught = float(np.mean(np.isfinite(harm)))
    return SharePlan(name, alpha_metric, decisions, hours, share, share_source, limit, min_sample, needed,
                     must_catch, caught)
