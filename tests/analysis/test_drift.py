"""Drift statistics from stored profiles, against independent references: scipy.stats (ks_2samp,
chisquare, wasserstein_distance), scipy.spatial.distance.jensenshannon, and a PSI written out by hand.
The sketch-based KS and Wasserstein are checked to lie within their stated bounds of the exact
two-sample values, on continuous, discrete and shifted data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from relevo.analysis.drift import (
    COMPARED,
    NO_REFERENCE,
    NOT_ENOUGH,
    PERSONAL,
    TOO_MANY,
    category_shift,
    compare_field,
    homogeneity,
    ks_against_sketch,
    ks_between_sketches,
    psi,
    sketch_cdf,
    wasserstein_normed,
)
from relevo.analysis.profile import categorical_profile, numeric_profile


def test_psi_is_the_textbook_sum():
    expected, actual = [50, 30, 20], [20, 30, 50]
    by_hand = sum((a / 100 - e / 100) * math.log((a / 100) / (e / 100)) for e, a in zip(expected, actual))
    assert psi(expected, actual) == pytest.approx(by_hand, rel=1e-12)
    assert psi([10, 10], [10, 10]) == 0.0
    # An empty bin counts as a share of 1e-4, so the index stays finite.
    floor = 1e-4
    by_hand = (0.5 - floor) * math.log(0.5 / floor) + (0.5 - 1.0) * math.log(0.5 / 1.0)
    assert psi([0, 10], [10, 10]) == pytest.approx(by_hand, rel=1e-12)


def _samples():
    rng = np.random.default_rng(7)
    yield "normal, shifted", rng.normal(0, 1, 5000), rng.normal(0.3, 1.2, 3000)
    yield "normal, same", rng.normal(5, 2, 4000), rng.normal(5, 2, 800)
    yield "skewed", rng.lognormal(0, 1, 6000), rng.lognormal(0.2, 1, 2500)
    yield "discrete", rng.poisson(1.5, 5000).astype(float), rng.poisson(2.5, 2000).astype(float)
    yield "few values", rng.choice([0.0, 1.0, 5.0], 3000, p=[0.6, 0.3, 0.1]), rng.choice([0.0, 1.0, 5.0], 900)
    yield "shares", rng.beta(2, 5, 3000), rng.beta(2, 2, 3000)
    yield "small current", rng.normal(0, 1, 2000), rng.normal(1, 1, 30)
    yield "large current (past one block)", rng.normal(0, 1, 5000), np.round(rng.normal(0.1, 1, 300_000), 3)


@pytest.mark.parametrize("points", [101, 1001])  # a window's sketch, and a version's reference
@pytest.mark.parametrize("name, reference, current", list(_samples()), ids=[s[0] for s in _samples()])
def test_sketch_statistics_lie_within_their_bounds_of_the_exact_ones(name, reference, current, points):
    ref = numeric_profile(reference, points=points)
    exact_ks = stats.ks_2samp(reference, current).statistic
    ks, bound = ks_against_sketch(ref["quantiles"], reference.size, current)
    assert abs(ks - exact_ks) <= bound, (ks, exact_ks, bound)
    assert ks_against_sketch(ref["quantiles"], reference.size, np.sort(current), presorted=True) == (ks, bound)
    # Two sketches (the previous window's against this one's): within both bounds.
    cur = numeric_profile(current)
    ks2, bound2 = ks_between_sketches(ref["quantiles"], reference.size, cur["quantiles"], current.size)
    assert abs(ks2 - exact_ks) <= bound2

    std = reference.std(ddof=1)
    exact_w = stats.wasserstein_distance(reference, current) / std
    w, w_bound = wasserstein_normed(ref["quantiles"], reference.size, std, current)
    assert abs(w - exact_w) <= w_bound, (w, exact_w, w_bound)
    w2, w2_bound = wasserstein_normed(ref["quantiles"], reference.size, std, cur["quantiles"], current_n=current.size)
    assert abs(w2 - exact_w) <= w2_bound


def test_the_bounds_are_tight_enough_to_tell_drift_from_noise():
    rng = np.random.default_rng(3)
    reference = rng.normal(0, 1, 100_000)
    ref = numeric_profile(reference)
    same, moved = rng.normal(0, 1, 20_000), rng.normal(0.5, 1, 20_000)
    ks_same, bound = ks_against_sketch(ref["quantiles"], reference.size, same)
    ks_moved, _ = ks_against_sketch(ref["quantiles"], reference.size, moved)
    assert ks_same < 0.03 and ks_moved - bound > 0.15  # half a standard deviation: KS about 0.2
    w, w_bound = wasserstein_normed(ref["quantiles"], reference.size, reference.std(ddof=1), moved)
    assert w == pytest.approx(0.5, abs=0.03) and w_bound < 0.15


def test_one_outlier_counts_in_full_in_the_wasserstein_distance():
    rng = np.random.default_rng(8)
    reference = rng.normal(0, 1, 100_000)
    current = np.r_[rng.normal(0, 1, 199_999), 1e6]  # one value a million deviations out
    ref = numeric_profile(reference)
    exact = stats.wasserstein_distance(reference, current) / reference.std(ddof=1)
    w, bound = wasserstein_normed(ref["quantiles"], reference.size, reference.std(ddof=1), current)
    assert exact > 4.9 and abs(w - exact) <= bound


def test_the_homogeneity_test_is_scipys_and_holds_its_level_at_small_counts():
    ref, cur = np.array([600.0, 300, 100]), np.array([80.0, 15, 5])
    table = np.vstack([ref, cur])
    assert homogeneity(ref, cur) == pytest.approx(stats.chi2_contingency(table, correction=False).pvalue, rel=1e-9)
    # No drift at all, 100 cases over 30 equally likely categories against a reference of 1,000:
    # every cell is sparse, pooled; the test rejects at its level, not at every window.
    rng = np.random.default_rng(4)
    runs, rejected = 1000, 0
    for _ in range(runs):
        a, b = rng.multinomial(1000, [1 / 30] * 30), rng.multinomial(100, [1 / 30] * 30)
        p = homogeneity(a, b)
        rejected += p is not None and p < 0.01
    assert rejected / runs <= 0.02


def test_the_sketch_cdf_steps_at_tied_points_and_is_exact_outside_the_range():
    q = [0, 0, 0, 1, 2]  # 50% of the sample at 0
    assert list(sketch_cdf(q, np.array([-1.0, 0.0, 0.5, 2.0, 3.0]))) == [0.0, 0.5, 0.625, 1.0, 1.0]
    assert list(sketch_cdf(q, np.array([0.0, 1.0, 2.0]), left=True)) == [0.0, 0.75, 1.0]
    constant = [4.0] * 101
    assert list(sketch_cdf(constant, np.array([3.9, 4.0, 4.1]))) == [0.0, 1.0, 1.0]


def test_categorical_statistics_match_scipy():
    reference = {"online": 600, "in_person": 300, "post": 100}
    current = {"online": 820, "in_person": 120, "post": 40, "app": 20}
    shift = category_shift(reference, current)
    names = sorted(set(reference) | set(current))
    p = np.array([reference.get(n, 0) for n in names], dtype=float)
    q = np.array([current.get(n, 0) for n in names], dtype=float)
    assert shift.js == pytest.approx(jensenshannon(p, q), rel=1e-12)
    kept = [n for n in names if n in reference]
    observed = np.array([current[n] for n in kept], dtype=float)
    expected = np.array([reference[n] for n in kept], dtype=float)
    expected = expected / expected.sum() * observed.sum()
    reference_test = stats.chisquare(observed, expected)
    assert shift.chi_square == pytest.approx(reference_test.statistic, rel=1e-12)
    assert shift.chi_square_p == pytest.approx(reference_test.pvalue, rel=1e-9, abs=1e-300)
    assert shift.new == {"app": 20} and shift.new_share == pytest.approx(0.02)
    by_hand = sum((max(b / 1000, 1e-4) - max(a / 1000, 1e-4)) * math.log(max(b / 1000, 1e-4) / max(a / 1000, 1e-4))
                  for a, b in zip(p, q))
    assert shift.psi == pytest.approx(by_hand, rel=1e-12)
    same = category_shift(reference, reference)
    assert same.psi == 0.0 and same.js == 0.0 and same.chi_square_p == pytest.approx(1.0)


def test_a_field_that_cannot_be_compared_says_why_and_gives_no_statistic():
    rng = np.random.default_rng(5)
    ref = numeric_profile(rng.normal(0, 1, 1000))
    few = numeric_profile(rng.normal(0, 1, 40), edges=ref["edges"])
    absent = numeric_profile(np.full(500, np.nan), edges=ref["edges"])
    cases = {
        NOT_ENOUGH: compare_field("x", ref, few, min_sample=100),
        NO_REFERENCE: compare_field("x", None, few, min_sample=10),
        PERSONAL: compare_field("applicant_id", None, categorical_profile(["a"] * 200), personal=True),
        TOO_MANY: compare_field("code", categorical_profile([f"c{i}" for i in range(100)]),
                                categorical_profile([f"c{i}" for i in range(100)]), min_sample=10),
    }
    for status, found in cases.items():
        assert found.status == status and found.psi is None and found.ks is None and found.js is None, found
    empty = compare_field("x", ref, absent, min_sample=100)
    assert empty.status == NOT_ENOUGH and empty.n == 0 and empty.missing_rate == 1.0
    assert "0 values in the window" in empty.detail
    all_missing_reference = numeric_profile(np.full(300, np.nan))
    assert compare_field("x", all_missing_reference, few, min_sample=10).status == NO_REFERENCE


def test_a_compared_field_has_every_statistic_and_its_shares():
    rng = np.random.default_rng(11)
    ref = numeric_profile(rng.uniform(0, 1, 2000))
    values = rng.uniform(0.3, 1, 1000)
    found = compare_field("documents_complete", ref, numeric_profile(values, edges=ref["edges"]), values=np.sort(values))
    assert found.status == COMPARED and found.n == 1000
    assert found.psi > 0.25 and found.ks > 0.2 and found.wasserstein > 0.4
    assert len(found.shares.labels) == len(ref["counts"]) and sum(found.shares.current) == pytest.approx(1.0)
    categorical = compare_field("channel", categorical_profile(["a"] * 500 + ["b"] * 500),
                                categorical_profile(["a"] * 900 + ["c"] * 100))
    assert categorical.status == COMPARED and categorical.new_categories == {"c": 100}
    assert categorical.shares.labels == ["a", "b", "c"]
