"""Ratio form: exactness of the streaming mixture, A/A soundness, coverage and power by simulation.

Simulations draw each batch of 20 decisions as counts: candidate decisions ~ Bin(20, w), then
events ~ Bin(decisions, rate) per arm. That is the exact distribution of a batch's event counts,
and within a batch the weight is constant, so batch counts are all the ratio form needs.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relevo.analysis.judge.ratio import (ALTERNATIVES, GRID_LOG_RHO, GRID_RHO, LOG_PRIOR, RatioState,
                                         mixture_log_e,
                                         constant_weight_log_e, event_log_likelihood, harm_log_e,
                                         noninferiority_log_e, q, tolerance_log_rho, two_sided_log_e)

from ._sim import assert_rate_at_most, crossed_at_looks, first_crossing, report

BATCH = 20
RUNS = 1000
ALPHA = 0.05
LEVEL = math.log(1 / ALPHA)
# 5% for 50 batches, then 10%, 25%, 50%: 4,000 decisions per simulated rollout
SCHEDULE = np.repeat([0.05, 0.10, 0.25, 0.50], 50)


def simulate(rng, runs, weights, p_stable, rho):
    """Event counts per batch: (candidate events, stable events), each of shape (runs, looks)."""
    n_cand = rng.binomial(BATCH, weights, size=(runs, weights.size))
    return (rng.binomial(n_cand, np.minimum(rho * p_stable, 1.0)),
            rng.binomial(BATCH - n_cand, p_stable))


def cumulative_loglik(log_rho, weights, nc, ns, reduce, chunk=100):
    """Apply reduce to cumulative log-likelihood paths (runs, looks, points), chunk by chunk."""
    out = []
    for start in range(0, nc.shape[0], chunk):
        inc = event_log_likelihood(log_rho, weights, nc[start:start + chunk], ns[start:start + chunk])
        out.append(reduce(np.cumsum(inc, axis=1)))
    return np.concatenate(out)


def test_one_step_mean_of_the_harm_mixture_is_at_most_one_under_the_null():
    # Exact expectation of the first factor: for every null rho <= rho_tol and any weight, the
    # mixture's expected value after one event is <= 1 (= 1 on the boundary).
    rho_tol = 1.3
    alts = np.exp(tolerance_log_rho(rho_tol)[ALTERNATIVES + 1:])
    for w in (0.01, 0.05, 0.3, 0.9):
        q0, q1 = q(rho_tol, w), q(alts, w)
        for rho in (0.2, 1.0, 1.2, rho_tol):
            qt = q(rho, w)
            step = np.exp(LOG_PRIOR) @ (qt * q1 / q0 + (1 - qt) * (1 - q1) / (1 - q0))
            assert step <= 1 + 1e-12
            if rho == rho_tol:
                assert step == pytest.approx(1.0, abs=1e-12)


def test_streaming_mixture_equals_a_brute_force_product_per_event():
    rng = np.random.default_rng(3)
    w = rng.choice([0.05, 0.1, 0.25, 0.5], size=120)
    x = (rng.random(120) < q(1.8, w)).astype(int)
    state = RatioState.start(rho_tol=1.1)
    for part in np.array_split(np.arange(120), 7):
        state = state.update(x[part], w[part])
    prior = [1 / m for m in range(1, ALTERNATIVES + 1)]
    total = math.fsum(prior)
    harm_terms, non_terms = [], []
    for m, weight in enumerate(prior, start=1):
        for sign, terms in ((1, harm_terms), (-1, non_terms)):
            rho1 = 1.1 * 2 ** (sign * m / 8)
            log_lr = 0.0
            for xi, wi in zip(x, w):
                q1, q0 = wi * rho1 / (wi * rho1 + 1 - wi), wi * 1.1 / (wi * 1.1 + 1 - wi)
                log_lr += math.log(q1 / q0) if xi else math.log((1 - q1) / (1 - q0))
            terms.append(weight / total * math.exp(log_lr))
    assert float(harm_log_e(state.loglik_tol)) == pytest.approx(math.log(math.fsum(harm_terms)), rel=1e-10)
    assert float(noninferiority_log_e(state.loglik_tol)) == pytest.approx(math.log(math.fsum(non_terms)), rel=1e-10)
    assert state.n_events == 120 and state.n_candidate_events == int(x.sum())


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=1, max_size=6), st.integers(0, 2**32 - 1))
def test_any_split_into_batches_gives_the_same_likelihood(cuts, seed):
    rng = np.random.default_rng(seed)
    w = rng.choice([0.05, 0.2, 0.5], size=40)
    x = (rng.random(40) < w).astype(int)
    whole = RatioState.start(1.0).update(x, w)
    state = RatioState.start(1.0)
    for part in np.split(np.arange(40), sorted(set(cuts))):
        state = state.update(x[part], w[part])
    np.testing.assert_allclose(state.loglik_grid, whole.loglik_grid, atol=1e-9)
    np.testing.assert_allclose(state.loglik_tol, whole.loglik_tol, atol=1e-9)
    # grouped counts are the same evidence as the events one by one
    grouped = RatioState.start(1.0).update_counts([0.05, 0.2, 0.5], [x[w == v].sum() for v in (0.05, 0.2, 0.5)],
                                                 [(1 - x[w == v]).sum() for v in (0.05, 0.2, 0.5)])
    np.testing.assert_allclose(grouped.loglik_grid, whole.loglik_grid, atol=1e-9)


def test_state_matches_the_vectorised_simulation_path():
    rng = np.random.default_rng(5)
    nc, ns = simulate(rng, 3, SCHEDULE, 0.05, 1.5)
    paths = cumulative_loglik(tolerance_log_rho(1.0), SCHEDULE, nc, ns, harm_log_e)
    for run in range(3):
        state = RatioState.start(1.0)
        for look in range(SCHEDULE.size):
            state = state.update_counts([SCHEDULE[look]], [nc[run, look]], [ns[run, look]])
        assert state.max_log_harm == pytest.approx(max(0.0, paths[run].max()), abs=1e-9)


def test_before_any_event_nothing_is_known():
    state = RatioState.start(1.2)
    assert state.interval == (0.0, math.inf) and state.estimate is None
    assert state.harm_e == 1.0 and state.noninferiority_e == 1.0


def test_bad_batches_are_refused_with_a_reason():
    state = RatioState.start()
    with pytest.raises(ValueError, match="weights"):
        state.update([1, 0], [0.0, 0.5])
    with pytest.raises(ValueError, match="x must"):
        state.update([2], [0.5])
    with pytest.raises(ValueError, match="rho_tol"):
        RatioState.start(0)


def test_a_clear_regression_gives_an_interval_around_the_truth():
    rng = np.random.default_rng(8)
    state = RatioState.start(1.0)
    for w in (0.05, 0.1, 0.25):
        x = (rng.random(400) < q(2.0, w)).astype(int)
        state = state.update(x, w)
    lo, hi = state.interval
    assert 1.0 < lo < 2.0 < hi < 4.0
    assert lo <= state.estimate <= hi and state.harm_e > 1e3


@pytest.mark.parametrize("rho_tol,weights", [
    (1.0, SCHEDULE),
    (1.5, np.full(200, 0.10)),
], ids=["rho1-changing-weights", "rho1.5-constant-weight"])
def test_aa_false_rollbacks_stay_below_alpha(rho_tol, weights):
    """A/A at the null's boundary (true rho = rho_tol), read after every batch of 20 decisions."""
    rng = np.random.default_rng(2024)
    t0 = time.perf_counter()
    looks = np.arange(weights.size)
    # Base rate swings over the "day" between 2% and 8%; the ratio form must not care.
    p_stable = 0.05 + 0.03 * np.sin(np.linspace(0, 4 * np.pi, weights.size))
    nc, ns = simulate(rng, RUNS, weights, p_stable, rho_tol)
    both = cumulative_loglik(tolerance_log_rho(rho_tol), weights, nc, ns,
                             lambda ll: np.stack([harm_log_e(ll), noninferiority_log_e(ll)], axis=1))
    harm, non = both[:, 0], both[:, 1]
    harm_crossed = crossed_at_looks(harm, looks, LEVEL)
    non_crossed = crossed_at_looks(non, looks, LEVEL)
    assert_rate_at_most(f"ratio A/A harm (rho_tol={rho_tol})", int(harm_crossed.sum()), RUNS, ALPHA)
    assert_rate_at_most(f"ratio A/A non-inferiority (rho_tol={rho_tol})", int(non_crossed.sum()), RUNS, ALPHA)
    if np.all(weights == weights[0]):
        # the closed-form Beta mixture on q, valid at one constant weight, on the same streams
        s, f = np.cumsum(nc, axis=1), np.cumsum(ns, axis=1)
        closed = constant_weight_log_e(s, f, float(weights[0]), rho_tol, "greater")
        crossed = int((closed >= LEVEL).any(axis=1).sum())
        assert_rate_at_most("ratio A/A harm, closed-form Beta mixture", crossed, RUNS, ALPHA)
    # Negative control: a one-sided z-test on the candidate's share of events, read after every
    # batch, is what a threshold check amounts to; it must show inflation the harness catches.
    q0 = q(rho_tol, weights)
    expected = np.cumsum((nc + ns) * q0, axis=1)
    spread = np.sqrt(np.cumsum((nc + ns) * q0 * (1 - q0), axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (np.cumsum(nc, axis=1) - expected) / spread
    naive = int(np.any(np.nan_to_num(z) > 1.645, axis=1).sum())
    report("  naive z-test read after every batch (negative control)", naive, RUNS)
    assert naive > 2 * ALPHA * RUNS
    print(f"  {RUNS} runs x {weights.size} looks in {time.perf_counter() - t0:.2f} s")


@pytest.mark.parametrize("rho", [1.0, 2.0])
def test_confidence_sequence_covers_rho_at_every_look(rho):
    rng = np.random.default_rng(99 + int(rho))
    index = int(np.argmin(np.abs(GRID_RHO - rho)))
    assert GRID_RHO[index] == pytest.approx(rho)
    nc, ns = simulate(rng, RUNS, SCHEDULE, 0.05, rho)
    two_sided = cumulative_loglik(GRID_LOG_RHO, SCHEDULE, nc, ns, lambda ll: two_sided_log_e(ll, index))
    missed = int(np.any(two_sided >= LEVEL, axis=1).sum())
    assert_rate_at_most(f"ratio CS misses rho={rho} at some look", missed, RUNS, ALPHA)


def test_power_doubling_at_five_percent_weight():
    """rho = 2 at weight 5%, stable rate 5%: how many decisions until the harm test rolls back."""
    rng = np.random.default_rng(7)
    looks = 600  # 12,000 decisions
    weights = np.full(looks, 0.05)
    nc, ns = simulate(rng, RUNS, weights, 0.05, 2.0)
    # only the null (first point) and the alternatives above it are needed for the harm test
    harm = cumulative_loglik(tolerance_log_rho(1.0)[ALTERNATIVES:], weights, nc, ns,
                             lambda ll: mixture_log_e(ll[..., 1:], ll[..., 0]))
    s, f = np.cumsum(nc, axis=1), np.cumsum(ns, axis=1)
    closed = constant_weight_log_e(s, f, 0.05, 1.0, "greater")
    for name, path in (("grid mixture", harm), ("closed-form Beta mixture", closed)):
        for alpha in (ALPHA, ALPHA / 3):
            first = first_crossing(path, math.log(1 / alpha))
            detected = first >= 0
            # undetected runs count as "later than the horizon", so the median is over all runs
            median = np.median(np.where(detected, (first + 1) * BATCH, math.inf))
            report(f"ratio power rho=2 w=5% p=5%, {name}, alpha={alpha:.3g}: detected by 12,000",
                   int(detected.sum()), RUNS)
            print(f"  median decisions to detection: {median:.0f}; "
                  f"median candidate decisions: {median * 0.05:.0f}")
            if name == "grid mixture" and alpha == ALPHA:
                assert detected.mean() >= 0.9
                assert median <= 6_000
