"""From e-values to a verdict: pass, fail or not yet, for one metric and for a step.

Family-wise control: each metric that can trigger a rollback gets alpha / k of the step's alpha
(k such metrics), so the chance that any of them falsely rolls back stays <= alpha (union bound
over Ville's inequality for each). A metric fails when its harm e-process has ever reached
1/alpha_metric. It passes according to its criterion:

- no_harm: the harm test has not rejected and at least min_candidate candidate decisions have
  been seen (absence of evidence only counts once there was a chance to see harm);
- prove: the non-inferiority e-process has reached 1/alpha_metric (and the minimum is met).

No data never passes: below the minimum the verdict is "not yet". Failing takes precedence
over passing, because the harm evidence is what protects citizens.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Mapping


class Verdict(str, Enum):
    """Outcome of judging a metric or a step."""

    PASS = "pass"
    FAIL = "fail"
    NOT_YET = "not_yet"


class Criterion(str, Enum):
    """What passing a metric requires."""

    NO_HARM = "no_harm"
    PROVE = "prove"


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
    criterion: Criterion
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
    """Each of k rollback-triggering metrics' share of the step's alpha."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha}")
    if k < 1:
        raise ValueError(f"need at least one metric to split alpha over, got {k}")
    return alpha / k


def judge_metric(criterion: Criterion | str, evidence: Evidence, alpha_metric: float,
                 min_candidate: int) -> MetricVerdict:
    """Verdict for one metric from its e-values and counts at its share of alpha."""
    criterion = Criterion(criterion)
    if not 0 < alpha_metric < 1:
        raise ValueError(f"alpha_metric must lie strictly between 0 and 1, got {alpha_metric}")
    if min_candidate < 1:
        raise ValueError("min_candidate must be at least 1: no data never passes")
    if criterion is Criterion.PROVE and evidence.noninferiority_e is None:
        raise ValueError("a 'prove' criterion needs a non-inferiority e-value")
    if criterion is Criterion.NO_HARM and evidence.harm_e is None:
        raise ValueError("a 'no_harm' criterion needs a harm e-value")
    threshold = 1 / alpha_metric
    harm, non, n = evidence.harm_e, evidence.noninferiority_e, evidence.n_candidate

    def fmt(e: float | None) -> str:
        return "-" if e is None else f"{e:.3g}"

    if harm is not None and harm >= threshold:
        verdict, reason = Verdict.FAIL, f"harm e-value {fmt(harm)} reached 1/alpha = {threshold:.3g}"
    elif n < min_candidate:
        verdict, reason = Verdict.NOT_YET, f"{n} of the {min_candidate} candidate decisions needed"
    elif criterion is Criterion.NO_HARM:
        verdict, reason = Verdict.PASS, f"no harm shown after {n} candidate decisions (e = {fmt(harm)})"
    elif non >= threshold:
        verdict, reason = Verdict.PASS, f"non-inferiority e-value {fmt(non)} reached 1/alpha = {threshold:.3g}"
    else:
        verdict, reason = Verdict.NOT_YET, f"non-inferiority e-value {fmt(non)} below 1/alpha = {threshold:.3g}"
    return MetricVerdict(verdict, criterion, reason, alpha_metric, threshold, harm, non, n,
                         min_candidate, evidence.estimate, evidence.lower, evidence.upper)


def judge_step(metrics: Mapping[str, tuple[Criterion | str, Evidence, int]],
               alpha: float) -> tuple[Verdict, dict[str, MetricVerdict]]:
    """Step verdict from (criterion, evidence, min_candidate) per metric, alpha split across them."""
    if not metrics:
        # Nothing was measured, so nothing was shown: never a pass.
        return Verdict.NOT_YET, {}
    # Splitting over all k metrics bounds both families at once: at most k harm tests can
    # falsely roll back and at most k non-inferiority tests can falsely pass, each at alpha/k.
    share = split_alpha(alpha, len(metrics))
    verdicts = {name: judge_metric(criterion, evidence, share, min_n)
                for name, (criterion, evidence, min_n) in metrics.items()}
    values = {v.verdict for v in verdicts.values()}
    if Verdict.FAIL in values:
        return Verdict.FAIL, verdicts
    if values == {Verdict.PASS}:
        return Verdict.PASS, verdicts
    return Verdict.NOT_YET, verdicts


def evidence_from(state, n_candidate: int) -> Evidence:
    """Evidence from any state of this package (ratio, difference, paired difference, rate)."""
    lower, upper = state.interval
    return Evidence(state.harm_e, state.noninferiority_e, int(n_candidate), state.estimate, lower, upper)
