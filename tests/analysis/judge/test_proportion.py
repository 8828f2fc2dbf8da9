"""One-sample rates (latency budget, selection rates): coverage, A/A, and fairness intervals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relevo.analysis.judge import beta_mixture
from relevo.analysis.judge.proportion import (RateState, disparate_impact_interval, group_rate_bounds,
                                              rate_interval, ratio_interval)

from ._sim import assert_rate_at_most, first_crossing, report

RUNS = 1000
ALPHA = 0.05
LEVEL = math.log(1 / ALPHA)


@pytest.mark.parametrize("p", [0.05, 0.3])
def test_confidence_sequence_covers_the_rate_at_every_single_outcome(p):
    rng = np.random.default_rng(int(100 * p))
    y = rng.random((RUNS, 2000)) < p
    s = np.cumsum(y, axis=1)
    f = np.arange(1, 2001) - s
    missed = int(np.any(beta_mixture.log_e_value(s, f, p) >= LEVEL, axis=1).sum())
    assert_rate_at_most(f"rate CS misses p={p} at some outcome (2,000 looks)", missed, RUNS, ALPHA)


def test_aa_latency_budget_tests_at_the_limit():
    """Share over budget exactly at the 5% limit, read after every batch of 20 decisions."""
    rng = np.random.default_rng(5)
    y = rng.random((RUNS, 4000)) < 0.05
    s = np.cumsum(y, axis=1)[:, 19::20]
    f = np.arange(20, 4001, 20) - s
    for side, name in (("greater", "harm: over budget"), ("less", "non-inferiority: within budget")):
        crossed = int(np.any(beta_mixture.log_e_value(s, f, 0.05, side) >= LEVEL, axis=1).sum())
        assert_rate_at_most(f"rate A/A {name}", crossed, RUNS, ALPHA)


def test_proving_a_latency_budget_takes_a_known_number_of_decisions():
    """True share over 800 ms is 3% against a 5% limit: decisions until "at most 5%" is shown."""
    rng = np.random.default_rng(6)
    y = rng.random((RUNS, 6000)) < 0.03
    s = np.cumsum(y, axis=1)[:, 19::20]
    f = np.arange(20, 6001, 20) - s
    first = first_crossing(beta_mixture.log_e_value(s, f, 0.05, "less"), LEVEL)
    detected = first >= 0
    report("latency 3% vs 5% limit proven by 6,000 decisions", int(detected.sum()), RUNS)
    median = np.median(np.where(detected, (first + 1) * 20, math.inf))
    print(f"  median decisions to proof: {median:.0f}")
    assert detected.mean() >= 0.9


def test_state_shows_this_looks_interval_and_tests_against_the_limit():
    rng = np.random.default_rng(9)
    state = RateState.start(p0=0.05)
    for _ in range(50):
        state = state.update((rng.random(40) < 0.12).astype(int))
    lo, hi = state.interval
    assert lo <= state.estimate <= hi and lo > 0.05
    # the interval is this look's, from the counts alone (so it never excludes the observed share)
    assert (lo, hi) == rate_interval(state.successes, state.n, ALPHA)
    assert state.harm_e > 1 / ALPHA and state.noninferiority_e == 1.0
    assert RateState.start().update([1, 0]).harm_e is None
    with pytest.raises(ValueError, match="outcomes"):
        state.update([2])
    with pytest.raises(ValueError, match="p0"):
        RateState.start(p0=1.0)


def test_per_group_sequences_hold_simultaneously_with_alpha_split():
    """Three groups at different rates and traffic: all cover together in >= 1 - alpha of runs."""
    rng = np.random.default_rng(13)
    rates, sizes = np.array([0.30, 0.25, 0.20]), [1500, 600, 200]
    any_miss = np.zeros(RUNS, dtype=bool)
    for p, n in zip(rates, sizes):
        y = rng.random((RUNS, n)) < p
        s = np.cumsum(y, axis=1)
        f = np.arange(1, n + 1) - s
        any_miss |= np.any(beta_mixture.log_e_value(s, f, p) >= math.log(len(rates) / ALPHA), axis=1)
    assert_rate_at_most("fairness: some group's CS misses (alpha split over 3)", int(any_miss.sum()), RUNS, ALPHA)
    bounds = group_rate_bounds({"a": (450, 1500), "b": (150, 600), "c": (40, 200)}, ALPHA)
    assert bounds["c"] == rate_interval(40, 200, ALPHA / 3)
    lo, hi = disparate_impact_interval(bounds)
    assert lo < (0.2 / 0.3) < hi <= 1


boxes = st.tuples(st.floats(0.0, 1.0), st.floats(0.0, 1.0)).map(sorted).map(tuple)


@settings(max_examples=200, deadline=None)
@given(st.lists(boxes, min_size=2, max_size=5), st.lists(st.floats(0, 1), min_size=5, max_size=5))
def test_disparate_impact_interval_contains_every_ratio_inside_the_box(group_boxes, where):
    bounds = {str(i): b for i, b in enumerate(group_boxes)}
    lo, hi = disparate_impact_interval(bounds)
    rates = [b_lo + u * (b_hi - b_lo) for (b_lo, b_hi), u in zip(group_boxes, where)]
    if max(rates) > 0:
        assert lo - 1e-12 <= min(rates) / max(rates) <= hi + 1e-12


@settings(max_examples=200, deadline=None)
@given(boxes, boxes, st.floats(0, 1), st.floats(0, 1))
def test_ratio_interval_contains_every_ratio_inside_the_box(num, den, u, v):
    lo, hi = ratio_interval(num, den)
    a = num[0] + u * (num[1] - num[0])
    b = den[0] + v * (den[1] - den[0])
    if b > 0:
        assert lo * (1 - 1e-12) <= a / b <= hi * (1 + 1e-12) + 1e-300


def test_bad_counts_are_refused():
    with pytest.raises(ValueError, match="successes"):
        rate_interval(5, 3, ALPHA)
    with pytest.raises(ValueError, match="two groups"):
        disparate_impact_interval({"a": (0.1, 0.2)})
