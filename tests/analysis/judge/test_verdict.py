"""Verdict rules: no data never passes, only positive evidence passes, harm fails first."""

from __future__ import annotations

import numpy as np
import pytest

from relevo.analysis.judge import (DifferenceState, Evidence, RateState, RatioState, Verdict, combine,
                                   evidence_from, judge_metric, split_alpha)


def ev(harm=1.0, non=1.0, n=500):
    return Evidence(harm_e=harm, noninferiority_e=non, n_candidate=n, estimate=0.1, lower=0.0, upper=0.2)


@pytest.mark.parametrize("evidence,expected", [
    (ev(n=0), Verdict.NOT_YET),             # no data never passes
    (ev(n=99, non=1e6), Verdict.NOT_YET),   # proof before the minimum still waits
    (ev(n=100), Verdict.NOT_YET),           # "no harm shown" is not a pass
    (ev(harm=19.99, n=100), Verdict.NOT_YET),
    (ev(non=5.0), Verdict.NOT_YET),
    (ev(non=20.0), Verdict.PASS),           # positive evidence within the tolerance
    (ev(harm=20.0, n=100), Verdict.FAIL),   # e >= 1/alpha rolls back
    (ev(harm=50.0, n=3), Verdict.FAIL),     # harm needs no minimum
    (ev(harm=25.0, non=25.0), Verdict.FAIL),  # harm evidence wins over a pass
    (Evidence(None, 30.0, 200), Verdict.PASS),
])
def test_metric_rules(evidence, expected):
    result = judge_metric(evidence, alpha_metric=0.05, min_candidate=100)
    assert result.verdict is expected, result.reason
    assert result.threshold == pytest.approx(20.0) and result.n_candidate == evidence.n_candidate


def test_a_metric_needs_a_non_inferiority_test_and_a_positive_minimum():
    with pytest.raises(ValueError, match="no data never passes"):
        judge_metric(ev(), 0.05, 0)
    with pytest.raises(ValueError, match="non-inferiority"):
        judge_metric(Evidence(1.0, None, 10), 0.05, 1)


@pytest.mark.parametrize("verdicts,observed,expected", [
    ([], True, Verdict.NOT_YET),  # nothing judged is nothing shown
    ([Verdict.NOT_APPLICABLE], True, Verdict.NOT_YET),
    ([Verdict.NOT_APPLICABLE, Verdict.PASS], True, Verdict.PASS),
    ([Verdict.PASS], False, Verdict.NOT_YET),  # nothing observed is nothing shown
    ([Verdict.PASS, Verdict.NOT_YET], True, Verdict.NOT_YET),
    ([Verdict.PASS, Verdict.FAIL, Verdict.NOT_APPLICABLE], True, Verdict.FAIL),
    ([Verdict.FAIL], False, Verdict.FAIL),
])
def test_a_step_combines_applicable_verdicts_only(verdicts, observed, expected):
    assert combine(verdicts, observed) is expected


def test_alpha_is_split():
    assert split_alpha(0.05, 4) == pytest.approx(0.0125)
    with pytest.raises(ValueError):
        split_alpha(0.05, 0)


def test_evidence_from_each_state_kind_and_an_end_to_end_rollback():
    rng = np.random.default_rng(0)
    ratio, diff, rate = RatioState.start(1.0), DifferenceState.start(0.0), RateState.start(0.05)
    n_cand = 0
    for _ in range(100):  # a candidate with three times the stable's error rate, weight 10%
        a = (rng.random(50) < 0.1).astype(int)
        y = (rng.random(50) < np.where(a == 1, 0.15, 0.05)).astype(int)
        ratio = ratio.update(a[y == 1], np.full(int(y.sum()), 0.1))
        diff = diff.update(y, a, 0.1)
        rate = rate.update(y[a == 1])
        n_cand += int(a.sum())
    for state in (ratio, diff, rate):
        e = evidence_from(state, n_cand)
        assert e.lower <= e.estimate <= e.upper and e.n_candidate == n_cand
    share = split_alpha(0.05, 2)
    verdicts = [judge_metric(evidence_from(state, n_cand), share, 200).verdict for state in (ratio, diff)]
    assert combine(verdicts) is Verdict.FAIL
