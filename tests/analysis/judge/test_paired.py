"""Paired evidence: McNemar and betting tests under A/A, coverage, power, and the state's bookkeeping."""

from __future__ import annotations

import math

import numpy as np
import pytest

from relevo.analysis.judge import beta_mixture
from relevo.analysis.judge.betting import batch_moments, bets, log_growth
from relevo.analysis.judge.paired import PairedState, mcnemar_log_e

from ._sim import assert_rate_at_most, first_crossing, report

BATCH = 20
RUNS = 1000
PAIRS = 3000
ALPHA = 0.05
LEVEL = math.log(1 / ALPHA)


def simulate(rng, runs, n, p_both, p_cand_only, p_stable_only):
    """Pairs (c, s) drawn from the joint table; returns c, s as int arrays (runs, n)."""
    u = rng.random((runs, n))
    cuts = np.cumsum([p_both, p_cand_only, p_stable_only])
    c = ((u < cuts[0]) | ((u >= cuts[0]) & (u < cuts[1]))).astype(int)
    s = ((u < cuts[0]) | ((u >= cuts[1]) & (u < cuts[2]))).astype(int)
    return c, s


def log_capital_path(z, m, side, lo, hi, prior_mean, prior_var):
    mean_b, var_b, _ = batch_moments(z, BATCH, prior_mean=prior_mean, prior_var=prior_var)
    return np.cumsum(log_growth(z, bets(mean_b, var_b, m, lo, hi, side), m), axis=-1)


def batch_ends(path):
    return path[..., BATCH - 1::BATCH]


def mcnemar_paths(c, s, side):
    up = np.cumsum((c == 1) & (s == 0), axis=-1)[..., BATCH - 1::BATCH]
    down = np.cumsum((c == 0) & (s == 1), axis=-1)[..., BATCH - 1::BATCH]
    return mcnemar_log_e(up, down, side)


def test_mcnemar_is_the_beta_mixture_on_a_fair_coin():
    for up, down in ((0, 0), (12, 3), (30, 30), (2, 40)):
        for side in ("two-sided", "greater", "less"):
            assert mcnemar_log_e(up, down, side) == beta_mixture.log_e_value(up, down, 0.5, side)
    assert mcnemar_log_e(40, 5, "greater") > math.log(1000) > mcnemar_log_e(5, 40, "greater")


def test_state_counts_the_flip_table_and_matches_the_vectorised_path():
    rng = np.random.default_rng(4)
    c, s = simulate(rng, 1, 400, 0.1, 0.07, 0.02)
    state = PairedState.start(tol=0.01)
    for start in range(0, 400, BATCH):
        state = state.update(c[0, start:start + BATCH], s[0, start:start + BATCH])
    table = state.flip_table
    assert table["candidate_only"] == int(((c == 1) & (s == 0)).sum())
    assert table["stable_only"] == int(((c == 0) & (s == 1)).sum())
    assert sum(table.values()) == state.n == 400
    w = (c - s)[0].astype(float)
    harm = batch_ends(log_capital_path(w, 0.01, "greater", -1.0, 1.0, 0.0, 1.0))
    assert state.difference.max_log_harm == pytest.approx(max(0.0, harm.max()), abs=1e-9)
    assert state.mcnemar_harm_e == pytest.approx(math.exp(max(0.0, mcnemar_paths(c, s, "greater").max())))
    assert state.agreement.estimate == pytest.approx(float((c == s).mean()))
    lo, hi = state.agreement.interval
    assert 0 <= lo <= state.agreement.estimate <= hi <= 1


def test_full_label_agreement_can_be_supplied_and_bad_input_is_refused():
    state = PairedState.start().update([1, 0, 0], [1, 0, 0], agree=[1, 0, 1])
    assert state.agreement.estimate == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="equally long"):
        state.update([1, 0], [1])
    with pytest.raises(ValueError, match="agree"):
        state.update([1], [1], agree=[1, 1])


def test_aa_false_alarms_stay_below_alpha():
    """Equal rates: discordant pairs split evenly, checked after every batch of 20 pairs."""
    rng = np.random.default_rng(12)
    c, s = simulate(rng, RUNS, PAIRS, 0.10, 0.04, 0.04)
    w = (c - s).astype(float)
    for side, name in (("greater", "harm"), ("less", "non-inferiority")):
        path = batch_ends(log_capital_path(w, 0.0, side, -1.0, 1.0, 0.0, 1.0))
        assert_rate_at_most(f"paired betting A/A {name} (tol=0)", int(np.any(path >= LEVEL, 1).sum()), RUNS, ALPHA)
    for side in ("greater", "two-sided"):
        path = mcnemar_paths(c, s, side)
        assert_rate_at_most(f"sequential McNemar A/A ({side})", int(np.any(path >= LEVEL, 1).sum()), RUNS, ALPHA)


@pytest.mark.parametrize("p_cand_only,p_stable_only", [(0.04, 0.04), (0.07, 0.02)])
def test_difference_and_agreement_sequences_cover_the_truth(p_cand_only, p_stable_only):
    rng = np.random.default_rng(int(1000 * p_cand_only))
    c, s = simulate(rng, RUNS, PAIRS, 0.10, p_cand_only, p_stable_only)
    diff = p_cand_only - p_stable_only
    path = batch_ends(log_capital_path((c - s).astype(float), diff, "two-sided", -1.0, 1.0, 0.0, 1.0))
    assert_rate_at_most(f"paired CS misses {diff:+.2f}", int(np.any(path >= LEVEL, 1).sum()), RUNS, ALPHA)
    agree = 1 - p_cand_only - p_stable_only
    path = batch_ends(log_capital_path((c == s).astype(float), agree, "two-sided", 0.0, 1.0, 0.5, 0.25))
    assert_rate_at_most(f"agreement CS misses {agree:.2f}", int(np.any(path >= LEVEL, 1).sum()), RUNS, ALPHA)


def test_power_of_paired_evidence():
    """Rejection rate 10% -> 15% (6% flip one way, 1% the other): pairs until detection."""
    rng = np.random.default_rng(21)
    c, s = simulate(rng, RUNS, PAIRS, 0.09, 0.06, 0.01)
    paths = {
        "betting on W": batch_ends(log_capital_path((c - s).astype(float), 0.0, "greater", -1.0, 1.0, 0.0, 1.0)),
        "McNemar": mcnemar_paths(c, s, "greater"),
    }
    for name, path in paths.items():
        first = first_crossing(path, LEVEL)
        detected = first >= 0
        report(f"paired power (+5 points), {name}: detected by {PAIRS}", int(detected.sum()), RUNS)
        median = np.median(np.where(detected, (first + 1) * BATCH, math.inf))
        print(f"  median pairs to detection: {median:.0f}")
        assert detected.mean() >= 0.95 and median <= 600
