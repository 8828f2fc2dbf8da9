"""The fairness planner reads a step as the judge does: its vectorised intervals are the judge's
own intervals, and the decisions it says a fair candidate needs are what the controller's judging
code passes on (and the harm it says a step catches is what that code rolls back)."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest

from relevo.analysis.judge import Verdict
from relevo.analysis.judge.fairness_power import interval_ends, plan_fairness, ratio_bounds
from relevo.analysis.judge.proportion import disparate_impact_interval, group_rate_bounds, rate_interval
from relevo.rollouts.judging import judge_canary
from relevo.rollouts.observations import StepObservations
from relevo.services.rollout_policy import Criterion, RolloutPolicy

ALPHA = 0.05
RUNS = 80
NOW = datetime(2026, 3, 1, tzinfo=timezone.utc)


def test_the_vectorised_interval_is_the_judges():
    rng = np.random.default_rng(3)
    n = rng.integers(1, 5000, size=300)
    s = rng.binomial(n, rng.uniform(0, 1, size=300))
    s[:5], s[5:10] = 0, n[5:10]  # the ends, where the interval touches 0 or 1
    lo, hi = interval_ends(s, n, np.log(1 / 0.01))
    expected = np.array([rate_interval(int(a), int(b), 0.01) for a, b in zip(s, n)])
    np.testing.assert_allclose(lo, expected[:, 0], atol=1e-9)
    np.testing.assert_allclose(hi, expected[:, 1], atol=1e-9)


def test_the_ratio_interval_is_the_judges_with_unseen_groups_left_out():
    rng = np.random.default_rng(4)
    counts = rng.integers(0, 400, size=(50, 3))
    counts[:10, 2] = 0  # a group not seen yet
    hits = rng.binomial(counts, 0.4)
    lower, upper, reads = ratio_bounds(hits, counts, ALPHA)
    for row in range(50):
        groups = {g: (int(hits[row, g]), int(counts[row, g])) for g in range(3) if counts[row, g]}
        assert reads[row] == (len(groups) >= 2)
        if len(groups) >= 2:
            expected = disparate_impact_interval(group_rate_bounds(groups, ALPHA))
            assert lower[row] == pytest.approx(expected[0], abs=1e-9)
            assert upper[row] == pytest.approx(expected[1], abs=1e-9)


def observations(rng, n, shares, rates) -> StepObservations:
    """A canary's candidate decisions, each from a group drawn by its share, selected at its rate."""
    groups = rng.choice(len(shares), size=n, p=shares)
    selected = rng.random(n) < np.asarray(rates)[groups]
    return StepObservations(
        candidate=np.ones(n, dtype=bool),
        decision=np.where(selected, "rejected", "admissible").astype(object),
        latency_ms=np.full(n, 5.0), failed=np.zeros(n, dtype=bool), corrected=np.zeros(n, dtype=bool),
        reviewed=np.zeros(n, dtype=bool), held=np.zeros(n, dtype=bool),
        created_at=np.arange(n).astype("datetime64[s]").astype("datetime64[us]"),
        inputs=[{"age_band": f"g{g}"} for g in groups],
        shadow_decision=np.full(n, None, dtype=object), shadow_failed=np.zeros(n, dtype=bool),
        shadow_latency_ms=np.full(n, 7.0))


def verdicts(n, shares, rates, seed) -> list[Verdict]:
    """The controller's fairness verdict on RUNS simulated candidates of n decisions."""
    policy = RolloutPolicy(alpha=ALPHA, criteria=[Criterion(metric="fairness", attribute="age_band",
                                                            label="rejected", min_ratio=0.7, min_sample=100)])
    rng = np.random.default_rng(seed)
    return [judge_canary(policy, observations(rng, n, shares, rates), 0.5, NOW)[0].verdict for _ in range(RUNS)]


def test_a_fair_candidate_passes_where_the_planner_says():
    shares, rates = [0.6, 0.4], [0.5, 0.45]
    plan = plan_fairness("fairness(age_band:rejected)", 100, 24, {"g0": (0.6, 0.5), "g1": (0.4, 0.45)}, 0.7,
                         ALPHA, min_sample=100)
    assert plan.needed is not None and plan.ratio == pytest.approx(0.9)
    at_needed = np.mean([v is Verdict.PASS for v in verdicts(plan.needed, shares, rates, seed=1)])
    at_half = np.mean([v is Verdict.PASS for v in verdicts(plan.needed // 2, shares, rates, seed=2)])
    print(f"needed {plan.needed}: the controller passes {at_needed:.0%} there, {at_half:.0%} at half of it")
    assert at_needed >= 0.7
    assert at_half <= 0.5


def test_the_harm_it_says_a_step_catches_is_rolled_back():
    plan = plan_fairness("fairness(age_band:rejected)", 1500, 24, {"g0": (0.6, 0.5), "g1": (0.4, 0.5)}, 0.7,
                         ALPHA, min_sample=100)
    assert plan.must_catch == pytest.approx(0.4)
    # The least-seen group (g1) at must_catch x the other's rate.
    rolled_back = np.mean([v is Verdict.FAIL for v in verdicts(1500, [0.6, 0.4], [0.5, 0.2], seed=3)])
    print(f"planner: {plan.caught:.0%} caught; controller: {rolled_back:.0%}")
    assert abs(rolled_back - plan.caught) <= 0.2
    assert plan.meets == (plan.caught >= 0.8)


def test_an_unfair_stable_version_is_never_shown_fair_and_says_why():
    plan = plan_fairness("f", 5000, 48, {"a": (0.5, 0.5), "b": (0.5, 0.3)}, 0.8, ALPHA, source="observed")
    assert plan.needed is None and not plan.shows
    assert "ratio of 0.60, under 0.8" in plan.unreachable


def test_a_stricter_limit_needs_more_decisions_and_rare_groups_cost_more():
    even = {"a": (0.5, 0.3), "b": (0.5, 0.3)}
    loose = plan_fairness("f", 20_000, 48, even, 0.7, ALPHA)
    strict = plan_fairness("f", 20_000, 48, even, 0.8, ALPHA)
    rare = plan_fairness("f", 20_000, 48, {"a": (0.9, 0.3), "b": (0.1, 0.3)}, 0.7, ALPHA)
    assert loose.needed is not None and strict.needed is not None and rare.needed is not None
    assert loose.needed < strict.needed and loose.needed < rare.needed


@pytest.mark.parametrize("groups, message", [({"a": (1.0, 0.3)}, "at least two groups"),
                                             ({"a": (1.0, 0.3), "b": (0.0, 0.3)}, "positive share")])
def test_bad_groups_are_refused(groups, message):
    with pytest.raises(ValueError, match=message):
        plan_fairness("f", 100, 24, groups, 0.8, ALPHA)
