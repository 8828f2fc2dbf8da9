"""The shadow report against an independent computation: counts by hand, the judge's own
confidence sequence, and the coverage of its agreement interval by simulation."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from relevo.analysis.judge import BettingMean, rate_interval
from relevo.rollouts.observations import StepObservations
from relevo.rollouts.shadow_report import NOT_GIVEN, shadow_report

LABELS = ["admissible", "rejected"]
AGES = ["18-29", "30-44", "45-64", "65+"]


def observations(n: int, seed: int, agree: float = 0.9, fail: float = 0.02, dropped: float = 0.05) -> StepObservations:
    """n decisions of a shadow step: stable labels, candidate copies (some failed, some never run)."""
    rng = np.random.default_rng(seed)
    stable = rng.choice(LABELS, n, p=[0.7, 0.3]).astype(object)
    stable[rng.random(n) < 0.03] = None  # manual review: no copy
    flip = rng.random(n) >= agree
    candidate = np.where(flip, np.where(stable == "admissible", "rejected", "admissible"), stable).astype(object)
    failed = rng.random(n) < fail
    ran = (stable != None) & (rng.random(n) >= dropped)  # noqa: E711
    candidate[~ran | failed] = None
    latency = np.where(ran, rng.gamma(2.0, 10.0, n), np.nan)
    inputs = [{"age_band": rng.choice(AGES), "nationality_group": rng.choice(["national", "eu", "non_eu"])}
              for _ in range(n)]
    for row in inputs[::17]:
        row.pop("nationality_group")  # not given
    return StepObservations(
        candidate=np.zeros(n, dtype=bool), decision=stable, latency_ms=rng.gamma(2.0, 5.0, n),
        failed=np.zeros(n, dtype=bool), corrected=np.zeros(n, dtype=bool), reviewed=np.zeros(n, dtype=bool), held=np.zeros(n, dtype=bool),
        created_at=np.arange(n).astype("datetime64[s]").astype("datetime64[us]"), inputs=inputs,
        shadow_decision=candidate, shadow_failed=ran & failed, shadow_latency_ms=latency)


def test_counts_percentiles_and_intervals_match_an_independent_computation():
    obs = observations(1500, seed=1)
    report = shadow_report(obs, ["age_band", "nationality_group"], LABELS, alpha=0.05)

    pairs = [(s, c, row) for s, c, row in zip(obs.decision, obs.shadow_decision, obs.inputs)
             if s is not None and c is not None]
    ran = ~np.isnan(obs.shadow_latency_ms)
    assert report.copies == int(ran.sum()) and report.candidate_errors == int(obs.shadow_failed.sum())
    # model times are counted in bins 0.5% wide (a long step's in a few hundred numbers)
    assert report.latency_p50_ms == pytest.approx(np.median(obs.shadow_latency_ms[ran]), rel=0.005)
    assert report.latency_p95_ms == pytest.approx(np.quantile(obs.shadow_latency_ms[ran], 0.95), rel=0.005)

    counts = Counter((s, c) for s, c, _ in pairs)
    overall = report.overall
    assert overall.pairs == len(pairs) and overall.agreeing == sum(s == c for s, c, _ in pairs)
    assert overall.table == {s: {c: counts[(s, c)] for c in LABELS} for s in LABELS}
    # the agreement interval is the judge's confidence sequence, fed in the judge's batches
    state = BettingMean.start(0.0, 1.0, 0.05)
    agree = np.array([s == c for s, c, _ in pairs], dtype=float)
    for start in range(0, agree.size, 10):
        state = state.update(agree[start:start + 10], 0.0, 1.0)
    assert (overall.lower, overall.upper) == state.interval
    assert overall.agreement == pytest.approx(agree.mean()) and overall.lower <= agree.mean() <= overall.upper
    flip = {(f.stable, f.candidate): f for f in overall.flips}
    assert set(flip) == {("admissible", "rejected"), ("rejected", "admissible")}
    cell = flip[("admissible", "rejected")]
    assert cell.count == counts[("admissible", "rejected")]
    assert (cell.lower, cell.upper) == rate_interval(cell.count, len(pairs), 0.05 / 2)

    for attribute in ("age_band", "nationality_group"):
        by_group = report.groups[attribute]
        expected = Counter(row.get(attribute, NOT_GIVEN) for _, _, row in pairs)
        assert {g: s.pairs for g, s in by_group.items()} == dict(expected)
        share = 0.05 / len(expected)  # alpha split over the attribute's groups
        for group, summary in by_group.items():
            mine = [(s, c) for s, c, row in pairs if row.get(attribute, NOT_GIVEN) == group]
            assert summary.table == {s: {c: sum(p == (s, c) for p in mine) for c in LABELS} for s in LABELS}
            assert summary.agreeing == sum(s == c for s, c in mine)
            k = summary.flips[0].count
            assert (summary.flips[0].lower, summary.flips[0].upper) == rate_interval(k, len(mine), share / 2)
    assert NOT_GIVEN in report.groups["nationality_group"]
    data = report.as_dict()
    assert data["overall"]["flips"][0]["stable"] == "admissible" and data["groups"]["age_band"]["65+"]["pairs"] > 0


def test_the_agreement_interval_covers_the_truth_at_its_level():
    misses = 0
    runs = 300
    for seed in range(runs):
        report = shadow_report(observations(200, seed=100 + seed, agree=0.9, fail=0.0, dropped=0.0), [],
                               LABELS, alpha=0.1)
        misses += not report.overall.lower <= 0.9 <= report.overall.upper
    # time-uniform at alpha 0.1: misses at most 10% (in practice far fewer; the bound is loose)
    assert misses / runs <= 0.1


def test_no_pairs_reports_nothing_rather_than_guessing():
    obs = observations(30, seed=3, dropped=1.0)
    report = shadow_report(obs, ["age_band"], LABELS)
    assert report.copies == 0 and report.overall.pairs == 0 and report.overall.agreement is None
    assert report.latency_p50_ms is None and report.error_share is None and report.groups == {"age_band": {}}
    with pytest.raises(ValueError, match="alpha"):
        shadow_report(obs, [], LABELS, alpha=1.0)
