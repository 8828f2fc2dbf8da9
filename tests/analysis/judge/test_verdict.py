"""Verdict rules: no data never passes, harm fails first, alpha is split across metrics."""

from __future__ import annotations

import numpy as np
import pytest

from relevo.analysis.judge import (Criterion, DifferenceState, Evidence, RateState, RatioState, Verdict,
                                   evidence_from, judge_metric, judge_step, split_alpha)


def ev(harm=1.0, non=1.0, n=500):
    return Evidence(harm_e=harm, noninferiority_e=non, n_candidate=n, estimate=0.1, lower=0.0, upper=0.2)


@pytest.mark.parametrize("criterion,evidence,expected", [
    ("no_harm", ev(n=0), Verdict.NOT_YET),            # no data never passes
    ("no_harm", ev(n=99), Verdict.NOT_YET),           # below the minimum
    ("no_harm", ev(n=100), Verdict.PASS),
    ("no_harm", ev(harm=19.99, n=100), Verdict.PASS),
    ("no_harm", ev(harm=20.0, n=100), Verdict.FAIL),  # e >= 1/alpha rolls back
    ("no_harm", ev(harm=50.0, n=3), Verdict.FAIL),    # harm needs no minimum
    ("prove", ev(non=5.0), Verdict.NOT_YET),
    ("prove", ev(non=20.0), Verdict.PASS),
    ("prove", ev(non=1e6, n=10), Verdict.NOT_YET),    # proof before the minimum still waits
    ("prove", ev(harm=25.0, non=25.0), Verdict.FAIL),  # harm evidence wins over a pass
    ("prove", Evidence(None, 30.0, 200), Verdict.PASS),
])
def test_metric_rules(criterion, evidence, expected):
    result = judge_metric(criterion, evidence, alpha_metric=0.05, min_candidate=100)
    assert result.verdict is expected, result.reason
    assert result.threshold == pytest.approx(20.0) and result.n_candidate == evidence.n_candidate


def test_criteria_need_their_e_values_and_a_positive_minimum():
    with pytest.raises(ValueError, match="no data never passes"):
        judge_metric("no_harm", ev(), 0.05, 0)
    with pytest.raises(ValueError, match="non-inferiority"):
        judge_metric("prove", Evidence(1.0, None, 10), 0.05, 1)
    with pytest.raises(ValueError, match="harm e-value"):
        judge_metric("no_harm", Evidence(None, 1.0, 10), 0.05, 1)
    with pytest.raises(ValueError):
        judge_metric("maybe", ev(), 0.05, 1)


def test_step_splits_alpha_and_combines():
    assert split_alpha(0.05, 4) == pytest.approx(0.0125)
    metrics = {
        "errors": (Criterion.NO_HARM, ev(harm=30.0), 100),  # 30 >= 20 but < 1/(0.05/2) = 40
        "latency": (Criterion.PROVE, ev(non=45.0), 100),
    }
    verdict, per_metric = judge_step(metrics, alpha=0.05)
    assert per_metric["errors"].alpha == pytest.approx(0.025)
    assert per_metric["errors"].verdict is Verdict.PASS and per_metric["latency"].verdict is Verdict.PASS
    assert verdict is Verdict.PASS
    metrics["errors"] = (Criterion.NO_HARM, ev(harm=41.0), 100)
    assert judge_step(metrics, 0.05)[0] is Verdict.FAIL
    metrics["errors"] = (Criterion.NO_HARM, ev(n=10), 100)
    assert judge_step(metrics, 0.05)[0] is Verdict.NOT_YET
    assert judge_step({}, 0.05) == (Verdict.NOT_YET, {})


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
    verdict, per_metric = judge_step({
        "errors (ratio)": ("no_harm", evidence_from(ratio, n_cand), 200),
        "errors (difference)": ("no_harm", evidence_from(diff, n_cand), 200),
    }, alpha=0.05)
    assert verdict is Verdict.FAIL, {k: v.reason for k, v in per_metric.items()}
