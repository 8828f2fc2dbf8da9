"""Performance and group gaps over a window, against simulations with a known answer: each interval
covers the truth at least at its level, at small counts too, and holds its own estimate."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest

from relevo.analysis.performance import expected_accuracy, rate, rate_gap


def test_a_rate_is_scipys_exact_interval_and_empty_is_unknown():
    found = rate(17, 200)
    reference = binomtest(17, 200).proportion_ci(confidence_level=0.95, method="exact")
    assert (found.lower, found.upper) == pytest.approx((reference.low, reference.high), abs=1e-9)
    assert found.estimate == pytest.approx(0.085)
    empty = rate(0, 0)
    assert empty.estimate is None and (empty.lower, empty.upper) == (0.0, 1.0)


@pytest.mark.parametrize("n", [10, 60, 2000])
def test_expected_accuracy_covers_the_realised_accuracy_of_a_calibrated_model(n):
    rng = np.random.default_rng(n)
    runs, covered = 2000, 0
    for _ in range(runs):
        confidence = rng.beta(8, 2, n)  # a fairly sure model, mean 0.8
        right = rng.random(n) < confidence  # calibrated: right as often as it says
        found = expected_accuracy(confidence)
        assert found.lower <= found.estimate <= found.upper
        covered += found.lower <= right.mean() <= found.upper
    assert covered / runs >= 0.95
    assert expected_accuracy([]).estimate is None


def test_expected_accuracy_exposes_an_overconfident_model():
    rng = np.random.default_rng(2)
    confidence = np.full(3000, 0.95)
    right = rng.random(3000) < 0.80  # it says 95%, it is right 80% of the time
    found = expected_accuracy(confidence)
    assert right.mean() < found.lower


@pytest.mark.parametrize("sizes,rates", [((25, 8), (0.2, 0.1)), ((500, 300, 60), (0.15, 0.15, 0.3))])
def test_a_rate_gap_covers_the_true_gap(sizes, rates):
    rng = np.random.default_rng(len(sizes))
    truth = max(rates) - min(rates)
    runs, covered = 2000, 0
    for _ in range(runs):
        counts = {f"g{i}": (int(rng.binomial(n, p)), n) for i, (n, p) in enumerate(zip(sizes, rates))}
        gap = rate_gap(counts)
        assert gap.lower <= gap.estimate <= gap.upper
        covered += gap.lower <= truth <= gap.upper
    assert covered / runs >= 0.95
    with pytest.raises(ValueError, match="at least two groups"):
        rate_gap({"a": (1, 10), "b": (0, 0)})
