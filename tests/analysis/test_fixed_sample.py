"""The suite's fixed-sample intervals against independent references: scipy's exact binomial
interval, and simulations with a known answer (coverage at least the level, at small counts too)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest

from relevo.analysis.fixed_sample import exact_interval, paired_change, selection_ratio


@pytest.mark.parametrize("k,n", [(0, 5), (3, 5), (5, 5), (17, 200), (1990, 2000)])
def test_the_exact_interval_is_scipys_clopper_pearson(k, n):
    reference = binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
    assert exact_interval(k, n, 0.05) == pytest.approx((reference.low, reference.high), abs=1e-9)


@pytest.mark.parametrize("n,p_stable,p_candidate,rho", [
    (8, 0.7, 0.6, 0.3), (40, 0.9, 0.85, 0.5), (300, 0.8, 0.8, 0.9), (1000, 0.75, 0.7, 0.6)])
def test_a_paired_change_covers_the_true_change(n, p_stable, p_candidate, rho):
    """Paired correctness drawn from a known joint law: the interval holds the true change in at least 95% of runs."""
    rng = np.random.default_rng(n)
    runs = 2000
    # Both right with probability p_both; the marginals are p_stable and p_candidate.
    p_both = min(p_stable, p_candidate) * rho + p_stable * p_candidate * (1 - rho)
    probabilities = [p_both, p_candidate - p_both, p_stable - p_both, 1 - p_stable - p_candidate + p_both]
    truth = p_candidate - p_stable
    covered = 0
    for counts in rng.multinomial(n, probabilities, size=runs):
        _, gains, losses, _ = counts
        change = paired_change(int(gains), int(losses), n, 0.05)
        assert change.lower <= change.estimate <= change.upper
        covered += change.lower <= truth <= change.upper
    assert covered / runs >= 0.95


def test_agreeing_cases_alone_do_not_prove_two_versions_equal():
    change = paired_change(0, 0, 5, 0.05)
    assert change.estimate == 0 and change.lower < -0.5 and change.upper > 0.5
    assert paired_change(0, 0, 5000, 0.05).lower > -0.002


@pytest.mark.parametrize("sizes,rates", [((30, 12), (0.6, 0.45)), ((400, 600, 90), (0.7, 0.7, 0.55))])
def test_a_selection_ratio_covers_the_true_ratio(sizes, rates):
    rng = np.random.default_rng(len(sizes))
    truth = min(rates) / max(rates)
    runs, covered = 2000, 0
    for _ in range(runs):
        counts = {f"g{i}": (int(rng.binomial(n, p)), n) for i, (n, p) in enumerate(zip(sizes, rates))}
        ratio = selection_ratio(counts, 0.05)
        if ratio.estimate is not None:
            assert ratio.lower <= ratio.estimate <= ratio.upper
        covered += ratio.lower <= truth <= ratio.upper
    assert covered / runs >= 0.95
    with pytest.raises(ValueError, match="at least two groups"):
        selection_ratio({"a": (3, 10), "b": (0, 0)}, 0.05)
