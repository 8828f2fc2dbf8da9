"""Turning a step's observations into verdicts, one per acceptance criterion, and guards.

Each criterion gets its share of the step's alpha (alpha / k over the criteria that apply to
the step). A criterion passes only on positive evidence that the candidate is within its
tolerance (relevo.analysis.judge.verdict); where the step's evidence cannot speak to it, it is
"not applicable" there. The evidence is fed to the judge's states in batches, in the order
decisions were made: at least ten decisions each, and never splitting decisions recorded at
the same moment, whose order the store does not fix. Each batch is one look with one stake
(relevo.analysis.judge.betting), so re-judging the same decisions later, or in another store
holding the same decisions, gives the same path: a verdict read at any tick is the
anytime-valid verdict "after every batch". The states live in the step's ledger
(relevo.rollouts.ledger), which keeps them between judgements: each judgement feeds it only
the decisions that arrived since.

Every rate criterion (error_rate, decision_rate, correction_rate, latency against stable) is
tested at the spec's tolerance, in its own scale: the harm test's null is "candidate rate <=
stable rate x tolerance" (relative) or "<= stable rate + tolerance" (absolute), so a candidate
within the tolerance is rolled back in at most alpha of steps; `check-plan` sizes exactly these
tests (relevo.analysis.judge.power).

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
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any, Callable

import numpy as np

from relevo.analysis.judge import (
    BettingMean,
    DifferenceState,
    Evidence,
    PairedState,
    RateState,
    RatioState,
    Verdict,
    combine,
    disparate_impact_interval,
    evidence_from,
    group_rate_bounds,
    judge_metric,
    split_alpha,
)
from relevo.rollouts.ledger import Ledger
from relevo.rollouts.observations import ReviewedDecisions, StepObservations, reviewed_in
from relevo.services.rollout_policy import (
    Criterion,
    RolloutPolicy,
    parse_duration,
)

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
    shown_in: str | None = None  # the earlier step (or phase) that showed it within tolerance
    deferred_to: str | None = None  # the later step (or phase) that can still show it
    definition: str | None = None  # the criterion's digest: what exactly was judged

    @property
    def effective(self) -> Verdict:
        """The verdict the step counts at its end: a criterion shown within its tolerance in an
        earlier step counts as passed, and one a later step can still show does not count here,
        while this step has no verdict of its own on it (a failure always fails)."""
        if self.verdict in (Verdict.NOT_YET, Verdict.NOT_APPLICABLE):
            if self.shown_in is not None:
                return Verdict.PASS
            if self.deferred_to is not None:
                return Verdict.NOT_APPLICABLE
        return self.verdict

    def carried(self, shown_in: str) -> "MetricResult":
        """This result, noting that an earlier step (or phase) showed it within tolerance."""
        if self.verdict in (Verdict.PASS, Verdict.FAIL):
            return self
        return replace(self, shown_in=shown_in, reason=f"{self.reason}; shown within the tolerance in {shown_in}")

    def deferred(self, to: str) -> "MetricResult":
        """This result, noting that a later step (or phase) can still show it."""
        if self.verdict is not Verdict.NOT_YET or self.shown_in is not None:
            return self
        return replace(self, deferred_to=to, reason=f"{self.reason}; left to {to}")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (an unbounded interval end becomes None: JSON has no infinity)."""
        def plain(v):
            if isinstance(v, Verdict):
                return v.value
            if isinstance(v, float) and not math.isfinite(v):
                return None
            return v

        return {k: plain(v) for k, v in self.__dict__.items()}

    @classmethod
    def kept(cls, data: dict[str, Any]) -> "MetricResult":
        """A result read back from its as_dict form (an unbounded interval end stays None)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known} | {"verdict": Verdict(data["verdict"])})


def _batched(ledger: Ledger, key: str, start, times: np.ndarray, *arrays, update=None):
    """The state for this judgement, fed arrays batch by batch (each batch is one look), through
    the step's kept evidence."""
    return ledger.batched(key, start, times, *arrays, **({"update": update} if update else {}))


def _betting(ledger: Ledger, key: str, values: np.ndarray, times: np.ndarray, low: float, high: float, alpha: float,
             tol: float | None, **grid) -> BettingMean:
    """A betting confidence sequence for the mean of values in [low, high], after every batch."""
    return ledger.batched(key, lambda: BettingMean.start(low, high, alpha, tol=tol, **grid), times, values,
                          update=lambda state, starts, rows: state.update_batches(starts, rows, low, high))


def agreement_sequence(agree: np.ndarray, times: np.ndarray, alpha: float,
                       min_agreement: float | None = None, ledger: Ledger | None = None,
                       key: str = "agreement") -> BettingMean:
    """The agreement's betting confidence sequence over pairs (1 = same label), after every batch."""
    return _betting(ledger or Ledger(), key, agree, times, 0.0, 1.0, alpha, min_agreement)


def _result(name: str, criterion: Criterion, evidence: Evidence, alpha: float) -> MetricResult:
    verdict = judge_metric(evidence, alpha, criterion.min_sample)
    return MetricResult(name, verdict.verdict, verdict.reason, verdict.estimate, verdict.lower, verdict.upper,
                        verdict.harm_e, verdict.noninferiority_e, evidence.n_candidate, alpha)


def _ratio(ledger: Ledger, key: str, criterion, candidate_events: np.ndarray, times: np.ndarray, weight: float,
           n_candidate: int, alpha: float):
    rho_tol = criterion.tolerance.relative if criterion.tolerance.relative else 1.0
    state = _batched(ledger, key, lambda: RatioState.start(rho_tol=rho_tol, alpha=alpha), times,
                     candidate_events.astype(int), np.full(candidate_events.size, weight))
    return _result(criterion.name, criterion, evidence_from(state, n_candidate), alpha)


def _difference(ledger: Ledger, key: str, criterion, y: np.ndarray, arm: np.ndarray, times: np.ndarray,
                weight: float, alpha: float):
    tol = criterion.tolerance.absolute if criterion.tolerance.absolute is not None else 0.0
    state = _batched(ledger, key, lambda: DifferenceState.start(tol=tol, alpha=alpha), times, y.astype(int),
                     arm.astype(int), np.full(y.size, weight))
    return _result(criterion.name, criterion, evidence_from(state, state.n_candidate), alpha)


def _two_arm(ledger: Ledger, criterion, y: np.ndarray, arm: np.ndarray, times: np.ndarray, weight: float,
             alpha: float) -> MetricResult:
    """A rate criterion from two arms at weight, tested at the spec's tolerance in its own scale:
    a relative tolerance by the ratio form on events (y = 1), an absolute one by the difference
    form on every decision."""
    key = criterion.name
    if criterion.tolerance.relative is not None:
        n_candidate = ledger.count(f"{key}/candidate", arm, times)
        return _ratio(ledger, key, criterion, arm[y], times[y], weight, n_candidate, alpha)
    return _difference(ledger, key, criterion, y, arm, times, weight, alpha)


def _fairness(ledger: Ledger, criterion, decisions: np.ndarray, inputs: list[dict], times: np.ndarray,
              alpha: float) -> MetricResult:
    name = criterion.name
    groups = np.array([None if decision is None else row.get(criterion.attribute)
                       for decision, row in zip(decisions, inputs)], dtype=object)
    known = groups != None  # noqa: E711 (elementwise)
    labels = [str(g) for g in groups[known]]
    decided = ledger.tally(f"{name}/decided", labels, times[known])
    selected = ledger.tally(f"{name}/selected", [g for g, d in zip(labels, decisions[known])
                                                 if d == criterion.label],
                            times[known][decisions[known] == criterion.label])
    counts = {group: (selected[group], n) for group, n in sorted(decided.items())}
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
    else:
        verdict, reason = Verdict.NOT_YET, (f"not yet shown fair: ratio interval [{lower:.3f}, {upper:.3f}] "
                                            f"reaches below {criterion.min_ratio}")
    return MetricResult(name, verdict, reason, estimate, lower, upper, n_candidate=n, alpha=alpha)


def _latency_share(ledger: Ledger, criterion, latencies: np.ndarray, times: np.ndarray,
                   alpha: float) -> MetricResult:
    over = (latencies > criterion.budget_ms).astype(int)
    state = _batched(ledger, criterion.name, lambda: RateState.start(p0=criterion.max_share, alpha=alpha), times, over)
    return _result(criterion.name, criterion, evidence_from(state, state.n), alpha)


def _paired_rate(ledger: Ledger, criterion, c: np.ndarray, s: np.ndarray, times: np.ndarray,
                 alpha: float) -> MetricResult:
    """A rate criterion from pairs (c, s: the candidate's and the stable's 0/1 outcome on one case)."""
    return _result(criterion.name, criterion, _paired_evidence(ledger, criterion.name, criterion, c, s, times, alpha),
                   alpha)


def _paired_evidence(ledger: Ledger, key: str, criterion, c: np.ndarray, s: np.ndarray, times: np.ndarray,
                     alpha: float) -> Evidence:
    """The evidence of a rate criterion on pairs (c, s).

    An absolute tolerance tests the mean of c - s against it; a relative one (candidate rate at
    most tolerance x stable rate) tests the mean of c - tolerance * s against 0, whose harm and
    non-inferiority nulls are exactly p_cand <= tol * p_stable and p_cand >= tol * p_stable. The
    estimate and interval shown are always the difference of rates, p_cand - p_stable.
    """
    tol = criterion.tolerance
    shown = _batched(ledger, key, lambda: PairedState.start(tol=tol.absolute or 0.0, alpha=alpha), times,
                     c.astype(int), s.astype(int))
    evidence = evidence_from(shown.difference, shown.n)
    if tol.relative is not None:
        rho = float(tol.relative)
        z = c.astype(float) - rho * s.astype(float)
        test = _betting(ledger, f"{key}/relative", z, times, -rho, 1.0, alpha, 0.0, points=3)  # only its tests are read
        evidence = Evidence(test.harm_e, test.noninferiority_e, evidence.n_candidate, evidence.estimate,
                            evidence.lower, evidence.upper)
    return evidence


def _not_applicable(name: str, why: str) -> MetricResult:
    return MetricResult(name, Verdict.NOT_APPLICABLE, f"not applicable: {why}")


PAIRED = ("shadow", "preview")  # phases judged on pairs: both versions answer the same case


def not_applicable(criterion: Criterion, phase: str) -> str | None:
    """Why the evidence of a phase (shadow, preview, canary, switched) cannot speak to a
    criterion, or None when it can."""
    if phase in PAIRED:
        if criterion.metric == "correction_rate":
            return "case workers never see shadow answers"
        if criterion.metric == "latency" and criterion.max_share is None:
            return "a latency comparison needs both arms answering citizens"
        return None
    if phase == "canary":
        return "agreement needs paired (shadow) evidence" if criterion.metric == "agreement" else None
    if phase == "switched":
        if criterion.metric == "fairness" or (criterion.metric == "latency" and criterion.max_share is not None):
            return None
        return "no stable arm answers after a blue/green switch"
    return f"a {phase} step is not judged"


def _share(policy: RolloutPolicy, phase: str) -> float:
    """Each applicable criterion's share of the phase's alpha."""
    return split_alpha(policy.alpha, max(1, sum(not_applicable(c, phase) is None for c in policy.criteria)))


def criterion_name(criterion: Criterion) -> str:
    """The criterion's name (unique within its policy)."""
    return criterion.name


def judge_canary(policy: RolloutPolicy, obs: StepObservations, weight: float, now: datetime,
                 ledger: Ledger | None = None,
                 reviews: Callable[[Criterion], ReviewedDecisions] | None = None) -> list[MetricResult]:
    """Verdicts for a canary step at weight (0..1); ledger: the step's kept evidence (obs then
    holds only the decisions since); reviews: the reviewed decisions each correction criterion
    counts (default: those in obs, old enough at now)."""
    ledger = ledger or Ledger()
    alpha = _share(policy, "canary")
    arm, times = obs.candidate, obs.created_at
    results = []
    for c in policy.criteria:
        name = criterion_name(c)
        if why := not_applicable(c, "canary"):
            results.append(_not_applicable(name, why))
        elif c.metric == "error_rate":
            results.append(_two_arm(ledger, c, obs.failed, arm, times, weight, alpha))
        elif c.metric == "correction_rate":
            # Among the decisions case workers reviewed, once old enough to have been, answers the
            # review policy held back included (the case worker's answer corrects the proposal),
            # in the order they came to count. The test assumes which decisions get reviewed does
            # not depend on the version that made them: true of a random review sample and of
            # holds by group, not quite of holds by label or probability band, which follow the
            # version's answers.
            counted = reviews(c) if reviews else reviewed_in(obs, now, parse_duration(c.review_delay).total_seconds())
            results.append(_two_arm(ledger, c, counted.corrected, counted.candidate, counted.counted_at, weight, alpha))
        elif c.metric == "latency" and c.max_share is not None:
            results.append(_latency_share(ledger, c, obs.latency_ms[arm], times[arm], alpha))
        elif c.metric == "latency":
            results.append(_two_arm(ledger, c, obs.latency_ms > c.budget_ms, arm, times, weight, alpha))
        elif c.metric == "decision_rate":
            answered = obs.decision != None  # noqa: E711 (elementwise on an object array)
            y = (obs.decision[answered] == c.label)
            results.append(_two_arm(ledger, c, y, arm[answered], times[answered], weight, alpha))
        elif c.metric == "fairness":
            results.append(_fairness(ledger, c, obs.decision[arm], [r for r, a in zip(obs.inputs, arm) if a],
                                     times[arm], alpha))
    return results


def judge_shadow(policy: RolloutPolicy, obs: StepObservations, ledger: Ledger | None = None) -> list[MetricResult]:
    """Verdicts for a shadow step (or a blue/green preview) from pairs (stable answer, candidate
    shadow answer); ledger: the step's kept evidence (obs then holds only the decisions since)."""
    ledger = ledger or Ledger()
    paired = obs.shadow_decision != None  # noqa: E711
    alpha = _share(policy, "shadow")
    stable, shadow, paired_times = obs.decision[paired], obs.shadow_decision[paired], obs.created_at[paired]
    both_answered = np.array([s is not None for s in stable], dtype=bool)
    both_times = paired_times[both_answered]
    results = []
    for c in policy.criteria:
        name = criterion_name(c)
        if why := not_applicable(c, "shadow"):
            results.append(_not_applicable(name, why))
        elif c.metric == "decision_rate":
            cs = (shadow[both_answered] == c.label)
            ss = (stable[both_answered] == c.label)
            results.append(_paired_rate(ledger, c, cs, ss, both_times, alpha))
        elif c.metric == "agreement":
            agree = (shadow[both_answered] == stable[both_answered]).astype(float)
            state = agreement_sequence(agree, both_times, alpha, c.min_agreement, ledger, name)
            lower, upper = state.interval
            # Harm here is agreeing too little: the test of "agreement >= min" rejecting; the
            # pass, agreeing enough: the test of "agreement <= min" rejecting.
            evidence = Evidence(state.noninferiority_e, state.harm_e, state.n, state.estimate, lower, upper)
            results.append(_result(name, c, evidence, alpha))
        elif c.metric == "error_rate":
            # Copies go only where the stable model answered, so a case the stable version
            # failed has no copy. For the harm test it counts as a pair in which the candidate did
            # not fail (which can only make the candidate look better: the test stays valid); for
            # the pass, as one in which it failed too, so an untried case never helps it pass.
            cases = obs.shadowed | obs.failed
            untried = obs.failed & ~obs.shadowed
            times = obs.created_at[cases]
            harm = _paired_evidence(ledger, f"{name}/harm", c, obs.shadow_failed[cases], obs.failed[cases], times,
                                    alpha)
            proof = _paired_evidence(ledger, f"{name}/proof", c, (obs.shadow_failed | untried)[cases],
                                     obs.failed[cases], times, alpha)
            results.append(_result(name, c, replace(harm, noninferiority_e=proof.noninferiority_e), alpha))
        elif c.metric == "latency":
            timed = obs.shadowed & ~np.isnan(obs.shadow_latency_ms)  # failed copies took their time too
            results.append(_latency_share(ledger, c, obs.shadow_latency_ms[timed], obs.created_at[timed], alpha))
        elif c.metric == "fairness":
            shadow_inputs = [r for r, p in zip(obs.inputs, paired) if p]
            results.append(_fairness(ledger, c, shadow, shadow_inputs, paired_times, alpha))
    return results


def judge_after_switch(policy: RolloutPolicy, obs: StepObservations, ledger: Ledger | None = None) -> list[MetricResult]:
    """Verdicts after a blue/green switch: only what the candidate alone can show."""
    ledger = ledger or Ledger()
    alpha = _share(policy, "switched")
    mask = obs.candidate
    results = []
    for c in policy.criteria:
        name = criterion_name(c)
        if why := not_applicable(c, "switched"):
            results.append(_not_applicable(name, why))
        elif c.metric == "latency":
            results.append(_latency_share(ledger, c, obs.latency_ms[mask], obs.created_at[mask], alpha))
        elif c.metric == "fairness":
            results.append(_fairness(ledger, c, obs.decision[mask], [r for r, m in zip(obs.inputs, mask) if m],
                                     obs.created_at[mask], alpha))
    return results


def step_verdict(results: list[MetricResult], candidate_decisions: int) -> Verdict:
    """The step's verdict (relevo.analysis.judge.combine over each criterion's effective one):
    fail if any fails; not yet while one this step must show is unshown, or while the candidate
    answered nothing here (nothing was watched); otherwise pass."""
    return combine([r.effective for r in results], observed=candidate_decisions > 0)
