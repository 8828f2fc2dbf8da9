"""Turning a step's observations into verdicts, one per acceptance criterion, and guards.

Each criterion gets its share of the step's alpha (alpha / k over the criteria that apply to
the step). The evidence is fed to the judge's states in fixed batches, in the order decisions
were made, so re-judging the same decisions later gives the same path: a verdict read at any
tick is the anytime-valid verdict "after every batch".

Every rate criterion (error_rate, decision_rate, correction_rate, latency against stable) is
tested at the spec's tolerance, in its own scale: the harm test's null is "candidate rate <=
stable rate x tolerance" (relative) or "<= stable rate + tolerance" (absolute), so a candidate
within the tolerance is rolled back in at most alpha of steps; `check-plan` sizes exactly these
tests (relevo.analysis.judge.planner).

Which evidence each criterion uses:
- canary steps (two arms at weight w): rate criteria by the ratio form on events (relative
  tolerance) or the difference form on every decision (absolute), latency as the candidate's
  share over budget (one-sample) or as a rate against stable, fairness from per-group selection
  rates in the candidate arm;
- shadow steps (pairs on the same case): decision_rate and error_rate by a betting test on the
  pairs (W = c - s against an absolute tolerance, W = c - tolerance x s against 0 for a relative
  one), agreement by a bounded-mean confidence sequence, latency and fairness from the
  candidate's shadow answers;
- blue/green steps: the preview is judged on pairs exactly as a shadow step; after the switch
  the candidate answers alone, so only latency within a budget, fairness and the guards apply;
  comparisons with the stable arm (there is none in the same period) are reported as such.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from relevo.analysis.judge import (BettingMean, DifferenceState, Evidence, PairedState, RateState, RatioState,
                                   Verdict, disparate_impact_interval, evidence_from, group_rate_bounds,
                                   judge_metric, split_alpha)
from relevo.rollouts.evidence import StepObservations, older_than
from relevo.rollouts.plan import Criterion, Guard, RolloutPolicy, parse_duration

BATCH = 10


@dataclass(frozen=True)
class MetricResult:
    """One criterion's verdict in a step, with its numbers."""

    name: str
    verdict: Verdict
    reason: str
    estimate: float | None = None
    lower: float | None = None
    upper: float | None = None
    harm_e: float | None = None
    noninferiority_e: float | None = None
    n_candidate: int = 0
    alpha: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (an unbounded interval end becomes None: JSON has no infinity)."""
        def plain(v):
            if isinstance(v, Verdict):
                return v.value
            if isinstance(v, float) and not math.isfinite(v):
                return None
            return v

        return {k: plain(v) for k, v in self.__dict__.items()}


def _batched(state, *arrays):
    """Feed arrays to state.update in fixed batches (each batch is one look)."""
    n = len(arrays[0])
    for start in range(0, n, BATCH):
        state = state.update(*(a[start:start + BATCH] for a in arrays))
    return state


def _betting(values: np.ndarray, low: float, high: float, alpha: float, tol: float | None, **grid) -> BettingMean:
    """A betting confidence sequence for the mean of values in [low, high], after every batch."""
    state = BettingMean.start(low, high, alpha, tol=tol, **grid)
    for start in range(0, values.size, BATCH):
        state = state.update(values[start:start + BATCH], low, high)
    return state


def agreement_sequence(agree: np.ndarray, alpha: float, min_agreement: float | None = None) -> BettingMean:
    """The agreement's betting confidence sequence over pairs (1 = same label), after every batch."""
    return _betting(agree, 0.0, 1.0, alpha, min_agreement)


def _from_state(name: str, criterion: Criterion, state, n_candidate: int, alpha: float) -> MetricResult:
    verdict = judge_metric(criterion.require, evidence_from(state, n_candidate), alpha, criterion.min_sample)
    return MetricResult(name, verdict.verdict, verdict.reason, verdict.estimate, verdict.lower, verdict.upper,
                        verdict.harm_e, verdict.noninferiority_e, n_candidate, alpha)


def _ratio(name, criterion, candidate_events: np.ndarray, weight: float, n_candidate: int, alpha: float):
    rho_tol = criterion.tolerance.relative if criterion.tolerance.relative else 1.0
    state = RatioState.start(rho_tol=rho_tol, alpha=alpha)
    if candidate_events.size:
        state = _batched(state, candidate_events.astype(int), np.full(candidate_events.size, weight))
    return _from_state(name, criterion, state, n_candidate, alpha)


def _difference(name, criterion, y: np.ndarray, arm: np.ndarray, weight: float, alpha: float):
    tol = criterion.tolerance.absolute if criterion.tolerance.absolute is not None else 0.0
    state = DifferenceState.start(tol=tol, alpha=alpha)
    if y.size:
        state = _batched(state, y.astype(int), arm.astype(int), np.full(y.size, weight))
    return _from_state(name, criterion, state, int(arm.sum()), alpha)


def _two_arm(name, criterion, y: np.ndarray, arm: np.ndarray, weight: float, alpha: float) -> MetricResult:
    """A rate criterion from two arms at weight, tested at the spec's tolerance in its own scale:
    a relative tolerance by the ratio form on events (y = 1), an absolute one by the difference
    form on every decision."""
    if criterion.tolerance.relative is not None:
        return _ratio(name, criterion, arm[y], weight, int(arm.sum()), alpha)
    return _difference(name, criterion, y, arm, weight, alpha)


def _fairness(name, criterion, decisions: np.ndarray, inputs: list[dict], alpha: float) -> MetricResult:
    counts: dict[str, tuple[int, int]] = {}
    for decision, row in zip(decisions, inputs):
        group = row.get(criterion.attribute)
        if group is None or decision is None:
            continue
        hits, n = counts.get(group, (0, 0))
        counts[group] = (hits + int(decision == criterion.label), n + 1)
    n = sum(c[1] for c in counts.values())
    if len(counts) < 2 or n < criterion.min_sample:
        return MetricResult(name, Verdict.NOT_YET, f"{n} of {criterion.min_sample} decisions across "
                            f"{len(counts)} {criterion.attribute} groups", n_candidate=n, alpha=alpha)
    bounds = group_rate_bounds(counts, alpha)  # {group: (selected, decided)}
    lower, upper = disparate_impact_interval(bounds)
    rates = [hits / total for hits, total in counts.values()]
    estimate = min(rates) / max(rates) if max(rates) > 0 else None
    if upper < criterion.min_ratio:
        verdict, reason = Verdict.FAIL, f"selection-rate ratio at most {upper:.3f} < {criterion.min_ratio}"
    elif lower >= criterion.min_ratio:
        verdict, reason = Verdict.PASS, f"selection-rate ratio at least {lower:.3f} >= {criterion.min_ratio}"
    elif criterion.require == "no_harm":
        verdict, reason = Verdict.PASS, (f"no unfairness shown: ratio interval [{lower:.3f}, {upper:.3f}] "
                                         f"reaches {criterion.min_ratio}")
    else:
        verdict, reason = Verdict.NOT_YET, f"ratio interval [{lower:.3f}, {upper:.3f}] straddles {criterion.min_ratio}"
    return MetricResult(name, verdict, reason, estimate, lower, upper, n_candidate=n, alpha=alpha)


def _latency_share(name, criterion, latencies: np.ndarray, alpha: float) -> MetricResult:
    over = (latencies > criterion.budget_ms).astype(int)
    state = RateState.start(p0=criterion.max_share, alpha=alpha)
    if over.size:
        state = _batched(state, over)
    return _from_state(name, criterion, state, int(over.size), alpha)


def _paired_rate(name, criterion, c: np.ndarray, s: np.ndarray, alpha: float) -> MetricResult:
    """A rate criterion from pairs (c, s: the candidate's and the stable's 0/1 outcome on one case).

    An absolute tolerance tests the mean of c - s against it; a relative one (candidate rate at
    most tolerance x stable rate) tests the mean of c - tolerance * s against 0, whose harm and
    non-inferiority nulls are exactly p_cand <= tol * p_stable and p_cand >= tol * p_stable. The
    estimate and interval shown are always the difference of rates, p_cand - p_stable.
    """
    tol = criterion.tolerance
    shown = PairedState.start(tol=tol.absolute or 0.0, alpha=alpha)
    if c.size:
        shown = _batched(shown, c.astype(int), s.astype(int))
    evidence = evidence_from(shown.difference, int(c.size))
    if tol.relative is not None:
        rho = float(tol.relative)
        z = c.astype(float) - rho * s.astype(float)
        test = _betting(z, -rho, 1.0, alpha, 0.0, points=3)  # only its tests are read
        evidence = Evidence(test.harm_e, test.noninferiority_e, evidence.n_candidate, evidence.estimate,
                            evidence.lower, evidence.upper)
    verdict = judge_metric(criterion.require, evidence, alpha, criterion.min_sample)
    return MetricResult(name, verdict.verdict, verdict.reason, verdict.estimate, verdict.lower, verdict.upper,
                        verdict.harm_e, verdict.noninferiority_e, int(c.size), alpha)


def _not_applicable(name: str, why: str) -> MetricResult:
    return MetricResult(name, Verdict.PASS, f"not applicable: {why}")


def criterion_name(criterion: Criterion) -> str:
    """A readable, unique-enough name: the metric and what it is about."""
    detail = criterion.label or criterion.attribute or (f"{criterion.budget_ms:g}ms" if criterion.budget_ms else "")
    if criterion.metric == "fairness":
        detail = f"{criterion.attribute}:{criterion.label}"
    return f"{criterion.metric}({detail})" if detail else criterion.metric


def judge_canary(policy: RolloutPolicy, obs: StepObservations, weight: float, now: datetime) -> list[MetricResult]:
    """Verdicts for a canary step at weight (0..1)."""
    applicable = [c for c in policy.criteria if c.metric != "agreement"]
    alpha = split_alpha(policy.alpha, max(1, len(applicable)))
    arm = obs.candidate
    results = []
    for c in policy.criteria:
        name = criterion_name(c)
        if c.metric == "agreement":
            results.append(_not_applicable(name, "agreement needs paired (shadow) evidence"))
        elif c.metric == "error_rate":
            results.append(_two_arm(name, c, obs.failed, arm, weight, alpha))
        elif c.metric == "correction_rate":
            old = older_than(obs, now, parse_duration(c.review_delay).total_seconds())
            results.append(_two_arm(name, c, obs.corrected[old], arm[old], weight, alpha))
        elif c.metric == "latency" and c.max_share is not None:
            results.append(_latency_share(name, c, obs.latency_ms[arm], alpha))
        elif c.metric == "latency":
            results.append(_two_arm(name, c, obs.latency_ms > c.budget_ms, arm, weight, alpha))
        elif c.metric == "decision_rate":
            answered = obs.decision != None  # noqa: E711 (elementwise on an object array)
            y = (obs.decision[answered] == c.label)
            results.append(_two_arm(name, c, y, arm[answered], weight, alpha))
        elif c.metric == "fairness":
            results.append(_fairness(name, c, obs.decision[arm], [r for r, a in zip(obs.inputs, arm) if a], alpha))
    return results


def judge_shadow(policy: RolloutPolicy, obs: StepObservations) -> list[MetricResult]:
    """Verdicts for a shadow step from pairs (stable answer, candidate shadow answer)."""
    paired = obs.shadow_decision != None  # noqa: E711
    applicable = [c for c in policy.criteria if c.metric != "correction_rate"]
    alpha = split_alpha(policy.alpha, max(1, len(applicable)))
    stable, shadow = obs.decision[paired], obs.shadow_decision[paired]
    both_answered = np.array([s is not None for s in stable], dtype=bool)
    results = []
    for c in policy.criteria:
        name = criterion_name(c)
        if c.metric == "correction_rate":
            results.append(_not_applicable(name, "case workers never see shadow answers"))
        elif c.metric == "decision_rate":
            cs = (shadow[both_answered] == c.label)
            ss = (stable[both_answered] == c.label)
            results.append(_paired_rate(name, c, cs, ss, alpha))
        elif c.metric == "agreement":
            agree = (shadow[both_answered] == stable[both_answered]).astype(float)
            state = agreement_sequence(agree, alpha, c.min_agreement)
            lower, upper = state.interval
            # Harm here is agreeing too little: the test of "agreement >= min" rejecting.
            evidence = Evidence(state.noninferiority_e, state.harm_e, int(agree.size), state.estimate, lower, upper)
            verdict = judge_metric(c.require, evidence, alpha, c.min_sample)
            results.append(MetricResult(name, verdict.verdict, verdict.reason, verdict.estimate, lower, upper,
                                        verdict.harm_e, verdict.noninferiority_e, int(agree.size), alpha))
        elif c.metric == "error_rate":
            # Copies go only where the stable model answered, so a case the stable version
            # failed has no copy: it counts as a pair in which the candidate did not fail. That
            # can only make the candidate look better than it is on those few cases, so the
            # harm test stays valid (a little conservative); every failed copy counts.
            cases = obs.shadowed | obs.failed
            results.append(_paired_rate(name, c, obs.shadow_failed[cases], obs.failed[cases], alpha))
        elif c.metric == "latency" and c.max_share is not None:
            timed = obs.shadowed & ~np.isnan(obs.shadow_latency_ms)  # failed copies took their time too
            results.append(_latency_share(name, c, obs.shadow_latency_ms[timed], alpha))
        elif c.metric == "latency":
            results.append(_not_applicable(name, "a latency comparison needs both arms answering citizens"))
        elif c.metric == "fairness":
            shadow_inputs = [r for r, p in zip(obs.inputs, paired) if p]
            results.append(_fairness(name, c, shadow, shadow_inputs, alpha))
    return results


def judge_after_switch(policy: RolloutPolicy, obs: StepObservations) -> list[MetricResult]:
    """Verdicts after a blue/green switch: only what the candidate alone can show."""
    alpha = split_alpha(policy.alpha, max(1, sum(c.metric in ("latency", "fairness") for c in policy.criteria)))
    results = []
    for c in policy.criteria:
        name = criterion_name(c)
        if c.metric == "latency" and c.max_share is not None:
            results.append(_latency_share(name, c, obs.latency_ms[obs.candidate], alpha))
        elif c.metric == "fairness":
            mask = obs.candidate
            results.append(_fairness(name, c, obs.decision[mask], [r for r, m in zip(obs.inputs, mask) if m], alpha))
        else:
            results.append(_not_applicable(name, "no stable arm answers after a blue/green switch"))
    return results


def check_guards(guards: list[Guard], obs: StepObservations, shadow: bool = False) -> str | None:
    """The first hard guard the candidate breaches, described, or None."""
    for guard in guards:
        if shadow:
            mask = obs.shadowed  # failed copies included: a failing candidate must trip the guard
            failed, latency = obs.shadow_failed[mask], obs.shadow_latency_ms[mask]
        else:
            failed, latency = obs.failed[obs.candidate], obs.latency_ms[obs.candidate]
        recent = failed[-guard.last:] if guard.metric == "error_rate" else (
            latency[-guard.last:] > (guard.budget_ms or float("inf")))
        if recent.size >= guard.last and recent.mean() > guard.max_share:
            return (f"guard {guard.metric}: {int(recent.sum())} of the candidate's last {guard.last} decisions "
                    f"({recent.mean():.0%}) exceed the {guard.max_share:.0%} limit")
    return None


def step_verdict(results: list[MetricResult]) -> Verdict:
    """fail if any criterion fails, pass if all pass, otherwise not yet."""
    verdicts = {r.verdict for r in results}
    if Verdict.FAIL in verdicts:
        return Verdict.FAIL
    if verdicts <= {Verdict.PASS}:
        return Verdict.PASS if results else Verdict.NOT_YET
    return Verdict.NOT_YET
