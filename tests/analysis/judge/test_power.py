"""Power planner: its simulations are the judge's states, its resolution is what a direct simulation sees."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from relevo.analysis.judge import (BettingMean, DifferenceState, PairedState, RatioState, Verdict,
                                   evidence_from, judge_metric)
from relevo.analysis.judge import power
from relevo.analysis.judge.power import (MetricTarget, Step, detections, difference_first_crossing, from_arrays,
                                           paired_first_crossing, plan_metric, plan_step, ratio_first_crossing,
                                           suggest)

from ._sim import assert_rate_at_most

ALPHA = 0.05
LEVEL = math.log(1 / ALPHA)
BATCH = power.BATCH
REJECTIONS = MetricTarget("rejection_rate", base_rate=0.28, tolerance=0.03)
ERRORS = MetricTarget("error_rate", base_rate=0.02, tolerance=1.5, scale="relative")


def fails(state, n_candidate: int) -> bool:
    """The judge's own verdict on a state: does this metric roll back now?"""
    return judge_metric(evidence_from(state, n_candidate), ALPHA, 1).verdict is Verdict.FAIL


def ratio_by_state(arm, outcome, w):
    """Feed events to RatioState in batches of 10 (the last, partial one at the step's end)."""
    state, events = RatioState.start(1.0, ALPHA), np.flatnonzero(outcome)
    for i in range(0, events.size, BATCH):
        batch = events[i:i + BATCH]
        state = state.update(arm[batch].astype(int), w)
        if fails(state, 1):
            return int(batch[-1]) if batch.size == BATCH else outcome.size - 1
    return -1


def difference_by_state(arm, outcome, w):
    state = DifferenceState.start(tol=0.0, alpha=ALPHA)
    for start in range(0, outcome.size, BATCH):
        part = slice(start, start + BATCH)
        state = state.update(outcome[part].astype(int), arm[part].astype(int), w)
        if fails(state, state.n_candidate):
            return min(start + BATCH, outcome.size) - 1
    return -1


def paired_by_state(c, s):
    state = PairedState.start(tol=0.0, alpha=ALPHA)
    for start in range(0, c.size, BATCH):
        state = state.update(c[start:start + BATCH].astype(int), s[start:start + BATCH].astype(int))
        if fails(state.difference, state.n):
            return min(start + BATCH, c.size) - 1
    return -1


@pytest.fixture(params=[40, power._CELLS_PER_BLOCK], ids=["blocks-of-10", "default-blocks"])
def block_cells(request, monkeypatch):
    # Tiny blocks carry the running sums, capital and counts across many block boundaries.
    monkeypatch.setattr(power, "_CELLS_PER_BLOCK", request.param)


def test_ratio_simulation_is_the_ratio_state(block_cells):
    rng = np.random.default_rng(11)
    runs, n, w = 6, 3000, 0.1
    arm = rng.random((runs, n)) < w
    outcome = rng.random((runs, n)) < np.where(arm, 0.10, 0.05)
    first = ratio_first_crossing(from_arrays(arm, outcome), n, runs, w, 1.0, LEVEL)
    expected = [ratio_by_state(arm[r], outcome[r], w) for r in range(runs)]
    assert first.tolist() == expected
    assert any(e >= 0 for e in expected) and any(e < 0 for e in expected)


def test_difference_simulation_is_the_difference_state(block_cells):
    rng = np.random.default_rng(12)
    runs, n, w = 6, 1500, 0.2
    arm = rng.random((runs, n)) < w
    outcome = rng.random((runs, n)) < np.where(arm, 0.40, 0.28)
    first = difference_first_crossing(from_arrays(arm, outcome), n, runs, w, 0.0, LEVEL)
    expected = [difference_by_state(arm[r], outcome[r], w) for r in range(runs)]
    assert first.tolist() == expected
    assert any(e >= 0 for e in expected) and any(e < 0 for e in expected)


def test_paired_simulation_is_the_paired_state(block_cells):
    runs, n = 6, 600
    c, s = power.shadow_stream(runs, 0.07, 0.04, 0.24, seed=13)(np.arange(runs), 0, n)
    assert c.mean() == pytest.approx(0.31, abs=0.02) and s.mean() == pytest.approx(0.28, abs=0.02)
    first = paired_first_crossing(from_arrays(c, s), n, runs, 0.0, LEVEL)
    expected = [paired_by_state(c[r], s[r]) for r in range(runs)]
    assert first.tolist() == expected
    assert any(e >= 0 for e in expected) and any(e < 0 for e in expected)


def relative_paired_by_state(c, s, rho):
    """The controller's relative paired test: betting on c - rho s in [-rho, 1] against 0."""
    state = BettingMean.start(-rho, 1.0, ALPHA, tol=0.0, points=3)
    z = c.astype(float) - rho * s
    for start in range(0, z.size, BATCH):
        state = state.update(z[start:start + BATCH], -rho, 1.0)
        if state.harm_e >= 1 / ALPHA:
            return min(start + BATCH, z.size) - 1
    return -1


def test_relative_paired_simulation_is_the_judges_test(block_cells):
    runs, n, rho = 6, 600, 1.2
    c, s = power.shadow_stream(runs, 0.15, 0.04, 0.24, seed=14)(np.arange(runs), 0, n)
    first = paired_first_crossing(from_arrays(c, s), n, runs, 0.0, LEVEL, rho=rho)
    expected = [relative_paired_by_state(c[r], s[r], rho) for r in range(runs)]
    assert first.tolist() == expected
    assert any(e >= 0 for e in expected) and any(e < 0 for e in expected)


@pytest.mark.parametrize("step,metric", [
    (Step.canary(0.05, 48), ERRORS),
    (Step.canary(0.05, 48), REJECTIONS),
    (Step.shadow(24), REJECTIONS),
    (Step.shadow(24), MetricTarget("rejection_rate", 0.28, 1.2, "relative")),
], ids=["ratio", "difference", "paired", "paired-relative"])
def test_planner_streams_at_the_tolerance_keep_false_rollbacks_below_alpha(step, metric):
    # The harm test's null is the tolerance (as the controller's): a candidate exactly at the
    # tolerance is rolled back in at most alpha of runs.
    first = detections(3000, step, metric, metric.tolerance, ALPHA, runs=1000, seed=5)
    assert_rate_at_most(f"planner at the tolerance, {step}, {metric.name}", int((first >= 0).sum()), 1000, ALPHA)


def direct_rate(daily, step, metric, effect, runs=1000, seed=99):
    """Detection rate from independently drawn streams, judged by the same harm tests."""
    rng = np.random.default_rng(seed)
    n = step.decisions(daily)
    p = metric.base_rate
    points = metric.points(effect)
    if step.kind == "shadow":
        d = metric.discordance
        u = rng.random((runs, n))
        c = (u < d / 2 + points) | ((u >= d / 2 + points) & (u < p + points))
        s = ((u >= d / 2 + points) & (u < p + points)) | ((u >= p + points) & (u < p + points + d / 2))
        assert abs(c.mean() - (p + points)) < 0.01 and abs(s.mean() - p) < 0.01
        if metric.scale == "relative":
            first = paired_first_crossing(from_arrays(c, s), n, runs, 0.0, LEVEL, rho=metric.tolerance)
        else:
            first = paired_first_crossing(from_arrays(c, s), n, runs, metric.tolerance, LEVEL)
    else:
        arm = rng.random((runs, n)) < step.weight
        outcome = rng.random((runs, n)) < np.where(arm, p + points, p)
        judge = ratio_first_crossing if metric.scale == "relative" else difference_first_crossing
        first = judge(from_arrays(arm, outcome), n, runs, step.weight, metric.tolerance, LEVEL)
    return float(np.mean(first >= 0))


@pytest.mark.parametrize("daily,step,metric", [
    (3000, Step.canary(0.05, 48), REJECTIONS),
    (3000, Step.canary(0.05, 48), ERRORS),
    (300, Step.shadow(168), MetricTarget("rejection_rate", 0.28, 0.03, discordance=0.10)),
], ids=["difference", "ratio", "paired"])
def test_resolution_agrees_with_a_direct_simulation(daily, step, metric):
    result = plan_metric(daily, step, metric, ALPHA)
    rates = dict(result.detection)
    grid = metric.effect_grid()
    i = int(np.flatnonzero(grid == result.resolution)[0])
    assert rates[result.resolution] >= 0.8 and rates[float(grid[i - 1])] < 0.8
    at, below = direct_rate(daily, step, metric, result.resolution), direct_rate(daily, step, metric, grid[i - 1])
    print(f"{metric.name} {step}: resolution {metric.describe(result.resolution)}: planner "
          f"{rates[result.resolution]:.3f}, direct {at:.3f}; one grid step below: direct {below:.3f}")
    assert 0.72 <= at and below <= 0.88  # 80% lies between the two grid points, up to simulation error
    assert abs(at - rates[result.resolution]) < 0.1


def test_more_traffic_weight_or_time_gives_finer_resolution():
    t0 = time.perf_counter()
    by_traffic = [plan_step(daily, Step.canary(0.05, 48), [REJECTIONS]).metrics[0] for daily in (300, 3000, 30000)]
    elapsed = time.perf_counter() - t0
    print("rejections +3 points, canary 5% 48 h: " + ", ".join(
        f"{d}/day -> {REJECTIONS.describe(m.resolution)}" for d, m in zip((300, 3000, 30000), by_traffic))
        + f" ({elapsed:.1f} s)")
    resolutions = [m.resolution for m in by_traffic]
    assert resolutions[0] > resolutions[1] > resolutions[2]
    for m in by_traffic:  # detection rises with the effect (common random numbers), up to a few runs
        rates = [r for _, r in m.detection]
        assert all(b >= a - 0.03 for a, b in zip(rates, rates[1:]))
    heavier = plan_step(3000, Step.canary(0.25, 48), [REJECTIONS]).metrics[0].resolution
    longer = plan_step(3000, Step.canary(0.05, 168), [REJECTIONS]).metrics[0].resolution
    assert heavier < resolutions[1] and longer < resolutions[1]
    assert by_traffic[1].candidate_decisions == 300 and by_traffic[1].stable_decisions == 5700


def test_the_300_a_day_example_warns_and_the_suggestion_meets_the_tolerance():
    t0 = time.perf_counter()
    step = Step.canary(0.05, 48)
    plan = plan_step(300, step, [REJECTIONS])
    assert not plan.meets and len(plan.warnings) == 1 and "cannot reliably detect" in plan.warnings[0]
    assert plan.metrics[0].candidate_decisions == 30
    proposal = suggest(300, step, [REJECTIONS])
    elapsed = time.perf_counter() - t0
    print(plan.warnings[0], "\n->", proposal.reason, f"({elapsed:.1f} s)")
    assert proposal.plan is not None and proposal.plan.step.kind == "shadow"
    assert proposal.plan.meets and proposal.plan.metrics[0].resolution <= REJECTIONS.must_detect
    # the planner's own check, asked afresh, agrees; and nothing shorter on the grid met it
    assert plan_step(300, proposal.plan.step, [REJECTIONS]).meets
    assert all(not ok for s, ok in proposal.considered if s.hours < proposal.plan.step.hours)
    # with the disagreement a shadow step would measure (10% of cases), a week of shadow is enough
    measured = MetricTarget("rejection_rate", 0.28, 0.03, discordance=0.10)
    shorter = suggest(300, step, [measured]).plan.step
    assert shorter.kind == "shadow" and shorter.hours < proposal.plan.step.hours
    assert elapsed < 10


def test_a_plan_that_meets_is_kept_and_alpha_is_split():
    step = Step.shadow(168)
    proposal = suggest(3000, step, [ERRORS])
    assert proposal.plan.step == step and proposal.plan.meets and proposal.considered == ((step, True),)
    two = plan_step(3000, step, [ERRORS, REJECTIONS], alpha=0.05, runs=50)
    assert [m.alpha for m in two.metrics] == [0.025, 0.025]
    assert [m.form for m in two.metrics] == ["paired", "paired"]


def test_same_seed_same_plan_and_inputs_are_checked():
    a = plan_step(300, Step.canary(0.1, 72), [ERRORS], seed=3)
    b = plan_step(300, Step.canary(0.1, 72), [ERRORS], seed=3)
    assert a.metrics == b.metrics
    with pytest.raises(ValueError, match="kind"):
        Step("bluegreen", 24)
    with pytest.raises(ValueError, match="weight"):
        Step.canary(1.0, 24)
    with pytest.raises(ValueError, match="absolute tolerance"):
        MetricTarget("r", 0.28, 0.9)
    with pytest.raises(ValueError, match="relative tolerance"):
        MetricTarget("e", 0.02, 0.9, "relative")
    with pytest.raises(ValueError, match="discordance"):
        MetricTarget("e", 0.02, 1.5, "relative", discordance=0.5)
    with pytest.raises(ValueError, match="no metric"):
        plan_step(300, Step.shadow(24), [])


def test_durations_read_as_people_write_them():
    from relevo.analysis.judge.durations import duration_text

    assert [duration_text(h) for h in (1 / 6, 0.001, 1, 5.25, 47.9, 48, 120)] == [
        "10 min", "1 min", "1 h", "5.2 h", "47.9 h", "2 days", "5 days"]
