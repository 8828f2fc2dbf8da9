"""Planning a share under a limit: the planner's simulation against the judge's own RateState."""

import math

import numpy as np
import pytest

from relevo.analysis.judge import RateState
from relevo.analysis.judge.share_power import plan_share


def _judge_passes_at(share: float, limit: float, alpha: float, min_sample: int, rng, horizon: int) -> float:
    """Answers after which the judge's RateState first passes (inf: not by horizon), fed 10 at a time."""
    state = RateState.start(p0=limit, alpha=alpha)
    for n in range(10, horizon + 1, 10):
        state = state.update(rng.random(10) < share)
        if n >= min_sample and state.max_log_noninferiority >= math.log(1 / alpha):
            return n
    return math.inf


def test_the_planned_pass_matches_the_judges_rate_state():
    share, limit, alpha, min_sample = 0.02, 0.05, 0.0125, 100
    plan = plan_share("latency(800ms)", 5000, 24, share, limit, alpha, min_sample, runs=400)
    rng = np.random.default_rng(7)
    judged = [_judge_passes_at(share, limit, alpha, min_sample, rng, 5000) for _ in range(300)]
    reference = float(np.quantile(judged, 0.8, method="higher"))
    assert plan.shows and plan.needed is not None
    assert abs(plan.needed - reference) <= 0.15 * reference, (plan.needed, reference)
    assert plan.needed >= min_sample


def test_a_share_at_the_limit_is_rolled_back_at_most_alpha_and_twice_it_is_caught():
    at_limit = plan_share("x", 20_000, 24, 0.05, 0.05, 0.05)
    assert at_limit.needed is None  # a share at the limit is never shown under it
    assert plan_share("x", 5000, 24, 0.02, 0.05, 0.05).meets  # a step of 5,000 answers catches 10%
    tiny = plan_share("x", 40, 24, 0.02, 0.05, 0.05, min_sample=100)
    assert not tiny.shows and not tiny.meets and tiny.needed is not None and tiny.needed > 40
    assert tiny.needed_hours() == pytest.approx(24 * tiny.needed / 40)
    # The harm test's own size: with the true share at the limit, rolled back in at most ~alpha of runs.
    from relevo.analysis.judge.share_power import _first_crossing

    crossed = _first_crossing(0.05, 0.05, "greater", math.log(1 / 0.05), 5000, 2000, np.random.default_rng(3))
    assert np.mean(np.isfinite(crossed)) <= 0.05 + 0.015
