"""What a shadow step shows: the candidate on the very cases the stable version answered.

Pure: built from a step's observations, no I/O. For the status of a shadow step (and of a
blue/green preview, which is judged the same way):

- copies: cases the candidate answered in shadow, how many of those failed (an error, a
  timeout, an invalid answer, an open circuit) and its model time (p50, p95) on them;
- pairs: cases both versions answered with a label. Agreement (the share of pairs with the
  same label) with a betting confidence sequence, as the judge's `agreement` criterion computes
  it, and the flip table: stable label x candidate label. Each flip (an off-diagonal cell) has
  its share of the pairs with a time-uniform interval (Beta-binomial mixture), alpha split over
  the flip cells;
- the same per group of each protected attribute (the spec's inputs with `protected: true`,
  read from the minimised inputs of each decision), with alpha split over the attribute's
  groups so that an attribute's group intervals hold together.

Intervals are at the step's alpha and valid however often status is read; they describe, the
criteria decide.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np

from relevo.analysis.judge import rate_interval
from relevo.rollouts.observations import StepObservations
from relevo.rollouts.judging import agreement_sequence
NOT_GIVEN = "(not given)"


@dataclass(frozen=True)
class Flip:
    """Pairs where the stable version said `stable` and the candidate `candidate`."""

    stable: str
    candidate: str
    count: int
    share: float  # of the pairs
    lower: float
    upper: float


@dataclass(frozen=True)
class PairedSummary:
    """Agreement and flips over a set of pairs."""

    pairs: int
    agreeing: int
    agreement: float | None
    lower: float | None  # agreement's confidence sequence
    upper: float | None
    table: dict[str, dict[str, int]]  # stable label -> candidate label -> pairs
    flips: list[Flip]


@dataclass(frozen=True)
class ShadowReport:
    """The paired comparison of a shadow step, overall and per protected group."""

    alpha: float
    labels: list[str]
    copies: int
    candidate_errors: int
    error_share: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    overall: PairedSummary
    groups: dict[str, dict[str, PairedSummary]]  # attribute -> group -> summary

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def _summary(stable: Sequence[str], candidate: Sequence[str], times: np.ndarray, labels: Sequence[str],
             alpha: float) -> PairedSummary:
    counts = Counter(zip(stable, candidate))
    table = {s: {c: counts.get((s, c), 0) for c in labels} for s in labels}
    n = len(stable)
    agree = np.array([s == c for s, c in zip(stable, candidate)], dtype=float)
    lower = upper = estimate = None
    if n:
        state = agreement_sequence(agree, times, alpha)
        (lower, upper), estimate = state.interval, state.estimate
    cells = [(s, c) for s in labels for c in labels if s != c]
    flips = []
    for s, c in cells:
        k = counts.get((s, c), 0)
        lo, hi = rate_interval(k, n, alpha / len(cells)) if n else (0.0, 1.0)
        flips.append(Flip(s, c, k, k / n if n else 0.0, lo, hi))
    return PairedSummary(n, int(agree.sum()), estimate, lower, upper, table, flips)


def _percentile(values: np.ndarray, q: float) -> float | None:
    return float(np.percentile(values, q)) if values.size else None


def shadow_report(obs: StepObservations, attributes: Sequence[str], labels: Sequence[str] = (),
                  alpha: float = 0.05) -> ShadowReport:
    """The shadow comparison of a step's observations; attributes: the protected inputs to split by.

    labels: the service's decision labels, in the order to show them (labels met in the pairs
    but not listed are added after them).
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha}")
    copies = obs.shadowed
    pairs = np.flatnonzero((obs.shadow_decision != None) & (obs.decision != None))  # noqa: E711
    stable = [str(v) for v in obs.decision[pairs]]
    candidate = [str(v) for v in obs.shadow_decision[pairs]]
    times = obs.created_at[pairs]
    shown = list(dict.fromkeys([*map(str, labels), *sorted(set(stable) | set(candidate))]))
    latency = obs.shadow_latency_ms[copies]
    latency = latency[~np.isnan(latency)]
    errors = int(obs.shadow_failed[copies].sum())
    n_copies = int(copies.sum())

    groups: dict[str, dict[str, PairedSummary]] = {}
    for attribute in attributes:
        values = [obs.inputs[i].get(attribute) for i in pairs]
        members: dict[str, list[int]] = {}
        for k, value in enumerate(values):
            members.setdefault(NOT_GIVEN if value is None else str(value), []).append(k)
        if not members:
            groups[attribute] = {}
            continue
        share = alpha / len(members)
        groups[attribute] = {
            group: _summary([stable[k] for k in ks], [candidate[k] for k in ks], times[ks], shown, share)
            for group, ks in sorted(members.items())}
    return ShadowReport(
        alpha=float(alpha), labels=shown, copies=n_copies, candidate_errors=errors,
        error_share=errors / n_copies if n_copies else None,
        latency_p50_ms=_percentile(latency, 50), latency_p95_ms=_percentile(latency, 95),
        overall=_summary(stable, candidate, times, shown, alpha), groups=groups)
