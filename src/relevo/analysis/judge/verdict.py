"""From e-values to a verdict: pass, fail, not yet or not applicable, for one metric and for a step.

Family-wise control: each metric judged in a step gets alpha / k of the step's alpha (k such
metrics), so the chance that any of them falsely rolls back, or falsely passes, stays <= alpha
(union bound over Ville's inequality for each). A metric

- fails when its harm e-process (H0: within the tolerance) has reached 1/alpha_metric: the
  evidence puts the candidate beyond its tolerance;
- passes only on positive evidence that it is within its tolerance: its non-inferiority
  e-process (H0: beyond the tolerance) has reached 1/alpha_metric, after at least min_candidate
  candidate decisions. "No harm shown" is never a pass: a wide interval that still holds a
  regression is not evidence of its absence;
- is not yet known otherwise, and is not applicable where the step's evidence cannot speak to it
  (agreement in a canary, corrections in shadow): that is said, never counted as a pass.

Failing takes precedence over passing, because the harm evidence is what protects citizens.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Iterable


class Verdict(str, Enum):
    """Outcome of judging a metric or a step."""

    PASS = "pass"
    FAIL = "fail"
    NOT_YET = "not_yet"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True)
class Evidence:
    """One metric's numbers, as a state from this package reports them."""

    harm_e: float | None  # running maximum; None when the metric has no harm test
    noninferiority_e: float | None  # running maximum; None when it has no non-inferiority test
    n_candidate: int  # candidate decisions seen (not events)
    estimate: float | None = None
    lower: float | None = None
    upper: float | None = None


@dataclass(frozen=True)
class MetricVerdict:
    """A metric's verdict with the numbers behind it."""

    verdict: Verdict
    reason: str
    alpha: float
    threshold: float  # 1 / alpha
    harm_e: float | None
    noninferiority_e: float | None
    n_candidate: int
    min_candidate: int
    estimate: float | None
    lower: float | None
    upper: float | None


def split_alpha(alpha: float, k: int) -> float:
    """Each of k metrics' share of the step's alpha."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha}")
    if k < 1:
        raise ValueError(f"need at least one metric to split alpha over, got {k}")
    return alpha / k


def _fmt(e: float | None) -> str:
    return "-" if e is None else f"{e:.3g}"


def judge_metric(evidence: Evidence, alpha_metric: float, min_candidate: int) -> MetricVerdict:
    """Verdict for one metric from its e-values and counts at its share of alpha."""
    if not 0 < alpha_metric < 1:
        raise ValueError(f"alpha_metric must lie strictly between 0 and 1, got {alpha_metric}")
    if min_candidate < 1:
        raise ValueError("min_candidate must be at least 1: no data never passes")
    if evidence.noninferiority_e is None:
        raise ValueError("a metric needs a non-inferiority e-value: only positive evidence passes")
    threshold = 1 / alpha_metric
    harm, non, n = evidence.harm_e, evidence.noninferiority_e, evidence.n_candidate
    if harm is not None and harm >= threshold:
        verdict, reason = Verdict.FAIL, f"beyond the tolerance: harm e-value {_fmt(harm)} reached 1/alpha = {threshold:.3g}"
    elif n < min_candidate:
        verdict, reason = Verdict.NOT_YET, f"{n} of the {min_candidate} candidate decisions needed"
    elif non >= threshold:
        verdict, reason = Verdict.PASS, (f"within the tolerance: non-inferiority e-value {_fmt(non)} reached "
                                         f"1/alpha = {threshold:.3g}")
    else:
        verdict, reason = Verdict.NOT_YET, (f"not yet shown within the tolerance: non-inferiority e-value "
                                            f"{_fmt(non)} below 1/alpha = {threshold:.3g}")
    return MetricVerdict(verdict, reason, alpha_metric, threshold, harm, non, n, min_candidate,
                         evidence.estimate, evidence.lower, evidence.upper)


def combine(verdicts: Iterable[Verdict], observed: bool = True) -> Verdict:
    """A step's verdict from its metrics': fail if any fails; not yet while any is not yet known,
    or when nothing was observed or judged (nothing measured is nothing shown); pass otherwise.
    Not-applicable metrics are left out."""
    applicable = [v for v in verdicts if v is not Verdict.NOT_APPLICABLE]
    if Verdict.FAIL in applicable:
        return Verdict.FAIL
    if not observed or not applicable or Verdict.NOT_YET in applicable:
        return Verdict.NOT_YET
    return Verdict.PASS


def evidence_from(state, n_candidate: int) -> Evidence:
    """Evidence from any state of this package (ratio, difference, paired difference, rate)."""
    lower, upper = state.interval
    return Evidence(state.harm_e, state.noninferiority_e, int(n_candidate), state.estimate, lower, upper)
