"""check-plan and the controller mean the same thing: the planner's resolution (the smallest
regression beyond the tolerance caught in 80% of runs) is what the controller's own judging code
catches, and a candidate at the tolerance is rolled back in at most about alpha of runs."""

from __future__ import annotations

import itertools
from datetime import datetime, timezone

import numpy as np
import pytest
from sqlalchemy import select

from relevo.analysis.judge import Verdict
from relevo.analysis.judge.power import MetricTarget, Step, plan_metric
from relevo.rollouts.observations import StepObservations
from relevo.rollouts.judging import judge_canary, judge_shadow
from relevo.services.rollout_policy import Criterion, RolloutPolicy, Tolerance
from relevo.store import connect
from relevo.store.tables import decisions

ALPHA = 0.05
RUNS = 80
NOW = datetime(2026, 3, 1, tzinfo=timezone.utc)


def observations(arm, decision, failed, shadow=None) -> StepObservations:
    n = arm.size
    return StepObservations(
        candidate=arm, decision=decision, latency_ms=np.full(n, 5.0), failed=failed,
        corrected=np.zeros(n, dtype=bool), reviewed=np.zeros(n, dtype=bool), held=np.zeros(n, dtype=bool),
        created_at=np.arange(n).astype("datetime64[s]").astype("datetime64[us]"), inputs=[{}] * n,
        shadow_decision=np.full(n, None, dtype=object) if shadow is None else shadow,
        shadow_failed=np.zeros(n, dtype=bool), shadow_latency_ms=np.full(n, 7.0))


def canary_run(rng, n, weight, p, effect_points, metric):
    arm = rng.random(n) < weight
    event = rng.random(n) < np.where(arm, p + effect_points, p)
    if metric == "decision_rate":
        return observations(arm, np.where(event, "rejected", "admissible").astype(object), np.zeros(n, dtype=bool))
    return observations(arm, np.full(n, "admissible", dtype=object), event)


def shadow_run(rng, n, p, d, effect_points):
    """Pairs as the planner models them: d/2 flips each way at no effect, the effect adds candidate-only."""
    u = rng.random(n)
    cand_only = u < d / 2 + effect_points
    stable_only = u >= 1 - d / 2
    both = (u >= 1 - d / 2 - (p - d / 2)) & ~stable_only
    c, s = cand_only | both, stable_only | both
    label = lambda x: np.where(x, "rejected", "admissible").astype(object)  # noqa: E731
    return observations(np.zeros(n, dtype=bool), label(s), np.zeros(n, dtype=bool), shadow=label(c))


CASES = {
    "canary difference": (1000, Step.canary(0.05, 48), MetricTarget("decision_rate(rejected)", 0.28, 0.03),
                          Criterion(metric="decision_rate", label="rejected", tolerance=Tolerance(absolute=0.03))),
    "canary ratio": (3000, Step.canary(0.25, 48), MetricTarget("error_rate", 0.02, 1.5, "relative"),
                     Criterion(metric="error_rate", tolerance=Tolerance(relative=1.5))),
    "shadow paired": (150, Step.shadow(168), MetricTarget("decision_rate(rejected)", 0.28, 0.03, discordance=0.10),
                      Criterion(metric="decision_rate", label="rejected", tolerance=Tolerance(absolute=0.03))),
    "shadow paired relative": (
        150, Step.shadow(168), MetricTarget("decision_rate(rejected)", 0.28, 1.2, "relative", discordance=0.10),
        Criterion(metric="decision_rate", label="rejected", tolerance=Tolerance(relative=1.2))),
}


def detected(daily, step, target, criterion, effect, seed) -> float:
    """Share of simulated steps the controller's judging code rolls back (a failing verdict)."""
    policy = RolloutPolicy(alpha=ALPHA, criteria=[criterion])
    rng = np.random.default_rng(seed)
    n, points, hits = step.decisions(daily), target.points(effect), 0
    for _ in range(RUNS):
        if step.kind == "shadow":
            results = judge_shadow(policy, shadow_run(rng, n, target.base_rate, target.discordance, points))
        else:
            obs = canary_run(rng, n, step.weight, target.base_rate, points, criterion.metric)
            results = judge_canary(policy, obs, step.weight, NOW)
        hits += results[0].verdict is Verdict.FAIL
    return hits / RUNS


@pytest.mark.parametrize("case", list(CASES))
def test_the_planners_resolution_is_what_the_controller_catches(case):
    daily, step, target, criterion = CASES[case]
    plan = plan_metric(daily, step, target, ALPHA)
    assert plan.resolution is not None and plan.resolution > target.tolerance
    at_resolution = detected(daily, step, target, criterion, plan.resolution, seed=1)
    at_tolerance = detected(daily, step, target, criterion, target.tolerance, seed=2)
    print(f"{case}: {plan.summary}\n  controller: {at_resolution:.0%} caught at the resolution "
          f"{target.describe(plan.resolution)}, {at_tolerance:.0%} at the tolerance {target.describe(target.tolerance)}")
    assert at_resolution >= 0.70
    assert at_tolerance <= 0.125  # alpha = 5%: at most 10 of 80 runs


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_check_plan_names_the_criterion_that_blocks_a_step(demo):
    from relevo.rollouts import check_plan

    check = check_plan(demo, "licence-prefilter", "canary-only", daily_cases=3000)
    [step] = check.steps
    assert step.suggestion is not None and step.suggestion.plan is not None
    names = [name for name, _ in step.alone]
    assert sorted(names) == sorted(m.name for m in step.suggestion.original.metrics)
    costs = [alone.cost for _, alone in step.alone]
    assert costs == sorted(costs, reverse=True) and step.blocking == names[0]
    # No criterion alone asks for more than the step proposed for all of them, and each alone is
    # shown and caught by the step proposed for it.
    assert costs[0] <= step.suggestion.cost
    for _, alone in step.alone:
        assert alone.plan is not None and alone.plan.sized


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_check_plan_sizes_latency_in_both_forms(demo):
    import yaml

    from relevo.demo import spec_resource
    from relevo.rollouts import check_plan
    from relevo.services.catalogue import apply_spec
    from relevo.services.spec import parse_spec

    body = yaml.safe_load(spec_resource().read_text())
    body["rollout"]["criteria"] = [
        {"metric": "latency", "budget_ms": 800, "max_share": 0.05, "min_sample": 100},
        {"metric": "latency", "budget_ms": 300, "tolerance": {"absolute": 0.05}, "min_sample": 100}]
    apply_spec(demo, parse_spec(body, "spec"))
    check = check_plan(demo, "licence-prefilter", "standard", daily_cases=3000)
    assert not [name for name in check.unsized if name.startswith("latency")]
    shadow, canary = check.steps[0], check.steps[1]
    # Against the stable version it needs both arms answering citizens: sized in canaries only, as a rate.
    assert shadow.plan is None and [v.name for v in shadow.limits] == ["latency(800ms)"]
    assert [m.name for m in canary.plan.metrics] == ["latency(300ms vs stable)"]
    limit = shadow.limits[0]
    assert limit.share_source.startswith("assumed") and limit.share == 0.025  # no decisions in this store yet
    assert limit.shows and limit.meets and check.shown_in["latency(800ms)"] == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_check_plan_sizes_fairness_from_the_spec_before_any_decision(demo):
    import yaml

    from relevo.demo import spec_resource
    from relevo.rollouts import check_plan
    from relevo.services.catalogue import apply_spec
    from relevo.services.spec import parse_spec

    body = yaml.safe_load(spec_resource().read_text())  # the demo's plans, judged on fairness alone
    body["rollout"]["criteria"] = [c for c in body["rollout"]["criteria"] if c["metric"] == "fairness"]
    apply_spec(demo, parse_spec(body, "spec"))
    check = check_plan(demo, "licence-prefilter", "standard", daily_cases=3000)
    assert not [name for name in check.unsized if name.startswith("fairness")]
    [view] = [v for v in check.steps[0].limits if v.name == "fairness(age_band:admissible)"]
    # No decisions yet: the spec's four age bands as equal groups, at an even share of two labels.
    assert view.source.startswith("assumed: the spec's 4 values") and set(view.groups) == {"18-29", "30-44",
                                                                                           "45-64", "65+"}
    assert all(share == 0.25 and rate == 0.5 for share, rate in view.groups.values())
    assert view.shows and view.meets and check.shown_in["fairness(age_band:admissible)"] == 0
    # Two days of a 5% canary at 1,000 cases a day hold 100 of the candidate's decisions: not enough.
    short = check_plan(demo, "licence-prefilter", "canary-only", daily_cases=1000)
    assert short.shown_in["fairness(age_band:admissible)"] is None
    [problem] = [p for p in short.problems if p.startswith("fairness(age_band:admissible): no step of the plan "
                                                           "shows the selection-rate ratio at least 0.8")]
    assert "within 50 times this step's decisions" in problem or "of the candidate's decisions" in problem


def test_check_plan_sizes_fairness_from_the_groups_it_has_seen(world):
    from relevo.demo.scenario import cases
    from relevo.rollouts import check_plan

    ctx, clock, gateway = world
    for case_id, inputs, _ in itertools.islice(cases(5), 600):
        gateway.decide("licence-prefilter", case_id, inputs)
    check = check_plan(ctx, "licence-prefilter", "standard", daily_cases=3000)
    [view] = [v for v in check.steps[0].limits if v.name == "fairness(age_band:admissible)"]
    with connect(ctx.engine) as conn:
        rows = conn.execute(select(decisions.c.inputs["age_band"].as_string(), decisions.c.decision)).all()
    seen = {g: [d for a, d in rows if a == g] for g in {a for a, _ in rows if a is not None}}
    assert view.source == f"observed, {len(seen)} groups over 30 days"
    total = sum(map(len, seen.values()))
    for group, answers in seen.items():  # each group's share and rate, as the store holds them
        share, rate = view.groups[group]
        assert share == pytest.approx(len(answers) / total)
        assert rate == pytest.approx(answers.count("admissible") / len(answers))
