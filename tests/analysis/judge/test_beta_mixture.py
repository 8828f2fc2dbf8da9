"""Closed-form Beta mixtures against brute-force numeric integrals, and their intervals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from relevo.analysis.judge import beta_mixture
from relevo.analysis.judge.ratio import constant_weight_interval, constant_weight_log_e, q

CASES = [  # successes, failures, q0, a, b
    (0, 0, 0.3, 0.5, 0.5),
    (0, 50, 0.3, 0.5, 0.5),
    (40, 10, 0.3, 0.5, 0.5),
    (3, 200, 0.05, 0.5, 0.5),
    (25, 475, 0.0476, 0.5, 0.5),
    (60, 440, 0.0476, 1.0, 1.0),
    (7, 13, 0.5, 2.0, 5.0),
    (150, 150, 0.5, 0.5, 0.5),
]


def brute_log_e(s, f, q0, a, b, side):
    """log of integral over the (restricted) prior of the likelihood ratio, by quadrature."""
    lo, hi = {"greater": (q0, 1.0), "less": (0.0, q0), "two-sided": (0.0, 1.0)}[side]
    prior = stats.beta(a, b)
    mass = prior.cdf(hi) - prior.cdf(lo)

    def log_lr(x):
        return s * math.log(x / q0) + f * math.log((1 - x) / (1 - q0))

    mode = min(max((s / (s + f)) if s + f else 0.5, lo + 1e-9), hi - 1e-9)
    shift = log_lr(mode)  # integrate exp(log LR - shift) to keep the integrand near 1

    def integrand(x):
        return math.exp(log_lr(x) - shift) * prior.pdf(x) / mass

    pts = [p for p in (mode, q0) if lo < p < hi]
    value, _ = integrate.quad(integrand, lo, hi, points=pts or None, limit=200, epsabs=0, epsrel=1e-10)
    return math.log(value) + shift


@pytest.mark.parametrize("side", ["greater", "less", "two-sided"])
@pytest.mark.parametrize("s,f,q0,a,b", CASES)
def test_closed_form_matches_numeric_integral(s, f, q0, a, b, side):
    closed = beta_mixture.log_e_value(s, f, q0, side, a, b)
    assert closed == pytest.approx(brute_log_e(s, f, q0, a, b, side), abs=1e-6, rel=1e-7)


def test_constant_weight_ratio_closed_form_matches_integral_over_rho_event_by_event():
    # Independent route: integrate over rho1 > rho_tol, multiplying the per-event likelihood
    # ratios through q(rho, w), with the Beta prior on q carried over to rho (change of variable).
    rng = np.random.default_rng(11)
    w, rho_tol = 0.05, 1.2
    x = (rng.random(300) < q(2.0, w)).astype(int)
    q0 = float(q(rho_tol, w))
    prior = stats.beta(0.5, 0.5)

    def log_lr(rho):
        q1 = w * rho / (w * rho + 1 - w)
        return float(np.sum(np.where(x == 1, np.log(q1 / q0), np.log((1 - q1) / (1 - q0)))))

    shift = max(log_lr(r) for r in np.geomspace(rho_tol, 50, 200))

    def integrand(log_rho):
        rho = math.exp(log_rho)
        dq_drho = w * (1 - w) / (w * rho + 1 - w) ** 2
        q1 = w * rho / (w * rho + 1 - w)
        return math.exp(log_lr(rho) - shift) * prior.pdf(q1) * dq_drho * rho

    value, _ = integrate.quad(integrand, math.log(rho_tol), math.log(1e6), limit=400, epsrel=1e-10)
    brute = math.log(value / prior.sf(q0)) + shift
    closed = constant_weight_log_e(int(x.sum()), int((1 - x).sum()), w, rho_tol, "greater")
    assert closed == pytest.approx(brute, abs=1e-6)
    assert closed > math.log(20)  # 300 events at rho = 2 are strong evidence against rho <= 1.2


@pytest.mark.parametrize("s,f", [(0, 0), (0, 40), (5, 95), (50, 50), (400, 9600), (100, 0)])
@pytest.mark.parametrize("alpha", [0.05, 0.001])
def test_interval_ends_are_where_the_two_sided_e_value_reaches_one_over_alpha(s, f, alpha):
    lo, hi = beta_mixture.confidence_interval(s, f, alpha)
    level = math.log(1 / alpha)
    assert 0 <= lo <= hi <= 1
    for end in (lo, hi):
        if 0 < end < 1:
            assert beta_mixture.log_e_value(s, f, end) == pytest.approx(level, abs=1e-6)
    inside = np.linspace(lo, hi, 50)[1:-1]
    assert np.all(beta_mixture.log_e_value(s, f, inside) < level)
    if s + f:
        assert lo <= s / (s + f) <= hi
    if s == 0:
        assert lo == 0
    # stricter alpha, wider interval
    lo2, hi2 = beta_mixture.confidence_interval(s, f, alpha / 10)
    assert lo2 <= lo and hi2 >= hi


def test_constant_weight_interval_maps_the_q_interval_to_rho():
    lo, hi = constant_weight_interval(30, 270, 0.1, 0.05)
    qlo, qhi = beta_mixture.confidence_interval(30, 270, 0.05)
    assert q(lo, 0.1) == pytest.approx(qlo) and q(hi, 0.1) == pytest.approx(qhi)
    assert lo < 1.0 < hi  # 10% of events at weight 10% is exactly rho = 1


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="q0"):
        beta_mixture.log_e_value(1, 1, 1.0)
    with pytest.raises(ValueError, match="side"):
        beta_mixture.log_e_value(1, 1, 0.5, "up")
    with pytest.raises(ValueError, match="alpha"):
        beta_mixture.confidence_interval(1, 1, 0)
