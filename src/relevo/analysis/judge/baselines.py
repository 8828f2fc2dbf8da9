"""The two judges Relevo is compared against, as plain functions on per-interval counts.

Both see the step as intervals (e.g. hours): per interval and run, the candidate's decisions and
events (errors, rejections) and the stable's. Arrays have shape (runs, intervals); an arm with
no decision in an interval has no rate there.

Fixed threshold checked every interval (how Argo Rollouts and Flagger judge), `threshold_judge`:
at the end of each interval one measurement is taken, the candidate's rate over that interval.
It *fails* when

    candidate rate > stable rate over the same interval * tolerance + margin   (relative check)
    or candidate rate > threshold                                              (absolute check)

(either check may be switched off: tolerance=None, threshold=None). An interval with fewer than
`min_candidate` candidate decisions gives no measurement (an empty query result), so it neither
passes nor fails; the relative check is skipped when the stable arm had no decision. The judge
rolls back at the end of the interval holding the `failure_limit`-th failed measurement, counted
over the whole step (not reset by passing ones). That is Flagger's `threshold` ("failed checks
before rollback") and Argo Rollouts' `failureLimit` + 1 (Argo fails the analysis when *more
than* failureLimit measurements failed). No error control: every measurement is another chance
of a noise-driven failure, and with few decisions per interval a rate is mostly noise.

Mann-Whitney U test at the end of the step (how Kayenta judges), `mann_whitney_judge`: each arm's
per-interval rates form one sample (intervals where the arm had no decision are dropped, like
Kayenta's "remove" NaN strategy); at the end of the step one one-sided test,
scipy.stats.mannwhitneyu(candidate, stable, alternative="greater"), rolls back when p < alpha.
Valid once, so it cannot roll back early. Kayenta's own classifier is stricter: it calls a
metric "High" only when the lower end of the two-sided 95% interval for the Hodges-Lehmann
shift exceeds 25% of the estimate; the plain one-sided test here is the more sensitive of the
two, so the comparison favours the baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import mannwhitneyu


@dataclass(frozen=True)
class ThresholdRule:
    """A fixed threshold with a failure limit; see the module docstring for the exact rule."""

    tolerance: float | None = 1.0  # relative check: fail above stable rate * tolerance + margin
    margin: float = 0.0  # added to the relative check's limit (absolute points, e.g. 0.02)
    threshold: float | None = None  # absolute check: fail above this rate
    failure_limit: int = 3  # roll back at this many failed measurements
    min_candidate: int = 1  # candidate decisions an interval needs to be measured

    def __post_init__(self):
        if self.tolerance is None and self.threshold is None:
            raise ValueError("give a relative tolerance, an absolute threshold, or both")
        if self.failure_limit < 1:
            raise ValueError(f"failure_limit must be at least 1, got {self.failure_limit}")
        if self.min_candidate < 1:
            raise ValueError(f"min_candidate must be at least 1, got {self.min_candidate}")


def interval_counts(arm, outcome, interval, n_intervals: int):
    """Per-interval counts from decisions: (cand_n, cand_events, stable_n, stable_events).

    arm, outcome: (runs, decisions) 0/1 arrays (arm 1 = candidate); interval: (decisions,) the
    interval index of each decision. Returns four (runs, n_intervals) integer arrays.
    """
    arm = np.asarray(arm, dtype=bool)
    outcome = np.asarray(outcome, dtype=bool)
    interval = np.asarray(interval)
    runs = arm.shape[0]
    # bincount over (run, interval) pairs, one flat index per decision
    flat = (np.arange(runs)[:, None] * n_intervals + interval[None, :]).ravel()
    size = runs * n_intervals

    def count(mask):
        return np.bincount(flat, weights=mask.ravel(), minlength=size).reshape(runs, n_intervals).astype(np.int64)

    return count(arm), count(arm & outcome), count(~arm), count(~arm & outcome)


def _rates(n, events):
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, np.asarray(events, dtype=float) / n, np.nan)


def threshold_failures(cand_n, cand_events, stable_n, stable_events, rule: ThresholdRule) -> np.ndarray:
    """Which measurements fail: a (runs, intervals) boolean array (False where none was taken)."""
    cand = _rates(cand_n, cand_events)
    stable = _rates(stable_n, stable_events)
    measured = np.asarray(cand_n) >= rule.min_candidate
    failed = np.zeros(cand.shape, dtype=bool)
    with np.errstate(invalid="ignore"):  # a comparison with a missing rate (NaN) is False
        if rule.tolerance is not None:
            failed |= cand > stable * rule.tolerance + rule.margin
        if rule.threshold is not None:
            failed |= cand > rule.threshold
    return failed & measured


def threshold_judge(cand_n, cand_events, stable_n, stable_events, rule: ThresholdRule) -> np.ndarray:
    """Per run: the interval at whose end the judge rolls back, or -1 if it never does."""
    failures = np.cumsum(threshold_failures(cand_n, cand_events, stable_n, stable_events, rule), axis=-1)
    reached = failures >= rule.failure_limit
    return np.where(reached.any(axis=-1), reached.argmax(axis=-1), -1)


def mann_whitney_judge(cand_n, cand_events, stable_n, stable_events, alpha: float = 0.05):
    """One-sided Mann-Whitney test of per-interval rates at the end: (rolls_back, p-value) per run.

    A run where either arm has no measured interval, or where every value is tied (the test is
    undefined, p is NaN), does not roll back.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha}")
    cand = np.atleast_2d(_rates(cand_n, cand_events))
    stable = np.atleast_2d(_rates(stable_n, stable_events))
    p = np.full(cand.shape[0], np.nan)
    usable = np.any(~np.isnan(cand), axis=1) & np.any(~np.isnan(stable), axis=1)
    complete = usable & ~np.isnan(cand).any(axis=1) & ~np.isnan(stable).any(axis=1)
    # Rows without gaps are tested in one vectorised call; rows with gaps go through
    # nan_policy="omit", which scipy handles slice by slice.
    for rows, policy in ((complete, "propagate"), (usable & ~complete, "omit")):
        if rows.any():
            with np.errstate(invalid="ignore", divide="ignore"):
                p[rows] = mannwhitneyu(cand[rows], stable[rows], alternative="greater", axis=1,
                                       nan_policy=policy).pvalue
    return np.nan_to_num(p, nan=1.0) < alpha, p
