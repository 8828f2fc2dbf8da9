"""What a shadow step shows: the candidate on the very cases the stable version answered.

Pure: built from a step's observations, no I/O. For the status of a shadow step (and of a
blue/green preview, which is judged the same way):

- copies: cases the candidate answered in shadow, how many of those failed (an error, a
  timeout, an invalid answer, an open circuit) and its model time (p50, p95) on them (counted
  in bins 0.5% wide, so a long step is summed up in a few hundred numbers: within 0.25%);
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

import json
from collections import Counter
from dataclasses import asdict, dataclass, replace
from typing import Any, Sequence

import numpy as np

from relevo.analysis.judge import BettingMean, rate_interval
from relevo.rollouts.judging import agreement_sequence
from relevo.rollouts.ledger import Ledger
from relevo.rollouts.observations import StepObservations

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


LATENCY_BIN = 1.005  # model times are kept as counts in bins 0.5% wide: a percentile within 0.25%


def _summary(counts: Counter, agreement: BettingMean | None, labels: Sequence[str], alpha: float) -> PairedSummary:
    """Agreement and flips from the pairs' (stable, candidate) counts and the agreement's sequence."""
    table = {s: {c: counts.get((s, c), 0) for c in labels} for s in labels}
    n = sum(counts.values())
    agreeing = sum(k for (s, c), k in counts.items() if s == c)
    lower = upper = estimate = None
    if n and agreement is not None:
        state = replace(agreement, alpha=alpha)  # the level is read at the look; the bets do not depend on it
        (lower, upper), estimate = state.interval, state.estimate
    cells = [(s, c) for s in labels for c in labels if s != c]
    flips = []
    for s, c in cells:
        k = counts.get((s, c), 0)
        lo, hi = rate_interval(k, n, alpha / len(cells)) if n else (0.0, 1.0)
        flips.append(Flip(s, c, k, k / n if n else 0.0, lo, hi))
    return PairedSummary(n, agreeing, estimate, lower, upper, table, flips)


def _bins(latencies: np.ndarray) -> list[str]:
    with np.errstate(divide="ignore"):
        index = np.floor(np.log(np.maximum(latencies, 0.0)) / np.log(LATENCY_BIN))
    return ["0" if not np.isfinite(i) else str(int(i)) for i in index]


def _percentile(bins: Counter, q: float) -> float | None:
    """The q-th percentile of the model times counted in bins (the bin's middle)."""
    total = sum(bins.values())
    if not total:
        return None
    rank, seen = q / 100 * (total - 1), 0
    for key in sorted(bins, key=lambda k: -np.inf if k == "0" else int(k)):
        seen += bins[key]
        if seen > rank:
            return 0.0 if key == "0" else float(LATENCY_BIN ** (int(key) + 0.5))
    return None  # not reached: the ranks lie within the counts


def _pair_key(stable: str, candidate: str) -> str:
    return json.dumps([stable, candidate])


def _pairs(ledger: Ledger, key: str, stable: list[str], candidate: list[str], times: np.ndarray,
           alpha: float) -> tuple[Counter, BettingMean]:
    """The (stable, candidate) counts of pairs so far and the agreement's confidence sequence."""
    tally = ledger.tally(f"{key}/pairs", [_pair_key(s, c) for s, c in zip(stable, candidate)], times)
    counts = Counter({tuple(json.loads(k)): n for k, n in tally.items()})
    agree = np.array([s == c for s, c in zip(stable, candidate)], dtype=float)
    return counts, agreement_sequence(agree, times, alpha, ledger=ledger, key=f"{key}/agreement")


def shadow_report(obs: StepObservations, attributes: Sequence[str], labels: Sequence[str] = (),
                  alpha: float = 0.05, ledger: Ledger | None = None) -> ShadowReport:
    """The shadow comparison of a step's observations; attributes: the protected inputs to split by;
    ledger: the step's kept evidence (obs then holds only the decisions since).

    labels: the service's decision labels, in the order to show them (labels met in the pairs
    but not listed are added after them).
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha}")
    ledger = ledger or Ledger()
    copies = obs.shadowed
    pairs = np.flatnonzero((obs.shadow_decision != None) & (obs.decision != None))  # noqa: E711
    stable = [str(v) for v in obs.decision[pairs]]
    candidate = [str(v) for v in obs.shadow_decision[pairs]]
    times = obs.created_at[pairs]
    timed = copies & ~np.isnan(obs.shadow_latency_ms)
    latency = ledger.tally("report/latency", _bins(obs.shadow_latency_ms[timed]), obs.created_at[timed])
    errors = ledger.count("report/errors", obs.shadow_failed & copies, obs.created_at)
    n_copies = ledger.count("report/copies", copies, obs.created_at)
    counts, agreement = _pairs(ledger, "report/all", stable, candidate, times, alpha)
    shown = list(dict.fromkeys([*map(str, labels), *sorted({s for pair in counts for s in pair})]))

    groups: dict[str, dict[str, PairedSummary]] = {}
    for attribute in attributes:
        values = [obs.inputs[i].get(attribute) for i in pairs]
        named = [NOT_GIVEN if value is None else str(value) for value in values]
        members: dict[str, list[int]] = {group: [] for group in ledger.tally(f"report/{attribute}", named, times)}
        for k, group in enumerate(named):
            members[group].append(k)
        share = alpha / len(members) if members else alpha
        summaries = {}
        for group, ks in sorted(members.items()):
            group_counts, group_agreement = _pairs(ledger, f"report/{attribute}/{json.dumps(group)}",
                                                   [stable[k] for k in ks], [candidate[k] for k in ks], times[ks],
                                                   share)
            summaries[group] = _summary(group_counts, group_agreement, shown, share)
        groups[attribute] = summaries
    return ShadowReport(
        alpha=float(alpha), labels=shown, copies=n_copies, candidate_errors=errors,
        error_share=errors / n_copies if n_copies else None,
        latency_p50_ms=_percentile(latency, 50), latency_p95_ms=_percentile(latency, 95),
        overall=_summary(counts, agreement, shown, alpha), groups=groups)
