"""Blue/green on a simulated clock, through the real gateway, store and controller: a preview on
mirrored copies judged on pairs, then the switch, a watch, and promotion; a bad candidate rolled
back during the preview without answering a citizen; a guard breach after the switch."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import yaml
from sqlalchemy import select

from relevo.analysis.judge.power import Step
from relevo.clock import SimulatedClock
from relevo.context import Context
from relevo.demo import spec_resource
from relevo.demo.scenario import cases
from relevo.demo.setup import set_up_demo
from relevo.gateway.gateway import Gateway
from relevo.gateway.pseudonym import load_key
from relevo.services.rollout_policy import RolloutPolicy
from relevo.rollouts.plan_check import check_plan
from relevo.rollouts.queries import rollout_status
from relevo.rollouts.simulation import simulate_rollout
from relevo.routing.table import get_route
from relevo.services.catalogue import apply_spec
from relevo.services.spec import parse_spec
from relevo.store import connect
from relevo.store.tables import audit_events, decisions, routes

from tests.conftest import demo_training, start_cleared

SERVICE = "licence-prefilter"
DAILY = 3000


@pytest.fixture
def bluegreen(settings):
    """The demo service with a blue/green plan (6 h preview, 2 h watch), v1 stable, a running gateway.

    Its criteria are ones a 6-hour preview at 3,000 cases a day can show within tolerance (the
    demo's fairness and correction criteria need days, and a blue/green plan has no canary to
    show corrections in)."""
    set_up_demo(settings, trained=demo_training())
    clock = SimulatedClock(datetime(2026, 3, 2, 8, tzinfo=timezone.utc))
    ctx = Context.open(settings, clock=clock)
    body = yaml.safe_load(spec_resource().read_text())
    body["rollout"]["plans"]["bluegreen"] = [{"kind": "bluegreen", "duration": "6h", "watch_after_switch": "2h"},
                                             {"kind": "promote"}]
    body["rollout"]["criteria"] = [
        {"metric": "decision_rate", "label": "rejected", "tolerance": {"absolute": 0.10}, "min_sample": 100},
        {"metric": "latency", "budget_ms": 800, "max_share": 0.05, "min_sample": 100},
        {"metric": "error_rate", "tolerance": {"absolute": 0.02}, "min_sample": 100},
    ]
    apply_spec(ctx, parse_spec(body, "spec"))  # v1 is already stable: the demo's approver routed it
    gateway = Gateway(ctx, "production", pseudonym_key=load_key(settings.pseudonym_key, settings.home)).start()
    yield ctx, clock, gateway
    gateway.close()
    ctx.close()


def arms(ctx: Context, label: str) -> dict[str, int]:
    with connect(ctx.engine) as conn:
        rows = conn.execute(select(decisions.c.arm).where(decisions.c.step == label)).scalars().all()
    return {arm: rows.count(arm) for arm in set(rows)}


def modes(ctx: Context) -> list[str]:
    """Every routing mode the service was given, in order (from the audit log)."""
    with connect(ctx.engine) as conn:
        details = conn.execute(select(audit_events.c.details).where(audit_events.c.action == "route.changed")
                               .order_by(audit_events.c.id)).scalars().all()
    return [d["mode"] for d in details]


def test_a_good_candidate_previews_switches_is_watched_and_promoted(bluegreen):
    ctx, clock, gateway = bluegreen
    rollout = start_cleared(ctx, SERVICE, "v2", plan="bluegreen")
    assert rollout.phase == "preview" and rollout.step_label.endswith("step-0-bluegreen-preview")
    assert get_route(ctx, SERVICE, "production").mode == "shadow"
    seen: list[tuple[str, datetime]] = []

    def watch(current, _sent):
        if current.state == "running" and (not seen or seen[-1][0] != current.phase):
            seen.append((current.phase, clock.now()))
            if current.phase == "preview":
                status = rollout_status(ctx, SERVICE, "production", current.id)
                assert status.phase == "preview" and status.shadow is not None

    started = clock.now()
    result = simulate_rollout(ctx, clock, gateway, rollout, cases(11), daily_cases=DAILY, batch=50, judge_every=1,
                              on_batch=watch)
    assert result.rollout.state == "promoted", rollout_status(ctx, SERVICE, "production", rollout.id)
    assert [p for p, _ in seen] == ["preview", "switched"]
    switched_at = seen[1][1]
    assert switched_at - started >= timedelta(hours=6)  # never before the preview's duration
    assert result.simulated >= timedelta(hours=8)  # the 2 h watch after the switch, then promote

    preview, after = arms(ctx, f"rollout-{rollout.id}/step-0-bluegreen-preview"), \
        arms(ctx, f"rollout-{rollout.id}/step-0-bluegreen-switched")
    assert set(preview) == {"stable"} and preview["stable"] >= 6 * DAILY / 24  # citizens got stable answers
    assert set(after) == {"candidate"} and after["candidate"] >= 2 * DAILY / 24
    assert modes(ctx) == ["stable", "shadow", "bluegreen", "stable"]
    with connect(ctx.engine) as conn:
        actions = conn.execute(select(audit_events.c.action).where(audit_events.c.subject.like("%rollout-%"))
                               .order_by(audit_events.c.id)).scalars().all()
        route = conn.execute(select(routes)).mappings().one()
    # v2 changes the model family: its start is followed by the change notice.
    assert actions[:3] == ["rollout.started", "release.change_notice", "rollout.switched"]
    assert "rollout.promoted" in actions
    assert route["mode"] == "stable" and route["candidate_version_id"] is None


def test_a_bad_candidate_is_rolled_back_in_the_preview_without_answering_a_citizen(bluegreen):
    ctx, clock, gateway = bluegreen
    rollout = start_cleared(ctx, SERVICE, "v3", plan="bluegreen")
    result = simulate_rollout(ctx, clock, gateway, rollout, cases(12), daily_cases=DAILY, batch=50, judge_every=1)
    assert result.rollout.state == "rolled_back" and result.simulated < timedelta(hours=6)
    status = rollout_status(ctx, SERVICE, "production", rollout.id)
    assert status.phase == "preview"
    failing = [m.name for m in status.judgement.metrics if m.verdict == "fail"]
    assert "decision_rate(rejected)" in failing
    with connect(ctx.engine) as conn:
        answered = conn.execute(select(decisions.c.arm).where(decisions.c.arm == "candidate")).scalars().all()
    assert answered == []  # v3 never answered a citizen
    assert "bluegreen" not in modes(ctx)
    flips = status.shadow.overall.table["admissible"]["rejected"]
    assert flips > status.shadow.overall.table["rejected"]["admissible"]


def test_a_guard_breach_after_the_switch_rolls_back_at_once(bluegreen):
    ctx, clock, gateway = bluegreen
    rollout = start_cleared(ctx, SERVICE, "v2", plan="bluegreen")
    broken: list[int] = []

    def fail_after_switch(current, sent):
        if current.phase == "switched" and not broken:
            candidate = gateway._loaded[current.candidate_version_id]

            def crash(rows):
                raise RuntimeError("the candidate's feature store is gone")

            candidate.model.predict = crash  # the candidate starts failing on every case
            broken.append(sent)

    result = simulate_rollout(ctx, clock, gateway, rollout, cases(13), daily_cases=DAILY, batch=50, judge_every=1,
                              on_batch=fail_after_switch)
    assert broken, "the preview should have passed and switched"
    assert result.rollout.state == "rolled_back"
    assert result.decisions - broken[0] <= 100  # the guard looks at the last 50 candidate decisions
    status = rollout_status(ctx, SERVICE, "production", rollout.id)
    assert status.phase == "switched" and "guard error_rate" in status.judgement.guard
    route = get_route(ctx, SERVICE, "production")
    assert route.mode == "stable" and route.candidate_version_id is None
    assert modes(ctx)[-2:] == ["bluegreen", "stable"]
    gateway.refresh()
    assert gateway.decide(SERVICE, "AFTER-1", next(cases(14))[1]).arm == "stable"


def test_plans_keep_bluegreen_last_before_promote():
    with pytest.raises(ValueError, match="only promote can follow"):
        RolloutPolicy(plans={"p": [{"kind": "bluegreen"}, {"kind": "canary", "weight": 5}, {"kind": "promote"}]},
                      default_plan="p")
    with pytest.raises(ValueError, match="durations look like"):
        RolloutPolicy(plans={"p": [{"kind": "bluegreen", "watch_after_switch": "soon"}, {"kind": "promote"}]},
                      default_plan="p")
    policy = RolloutPolicy(plans={"p": [{"kind": "shadow"}, {"kind": "bluegreen", "duration": "24h"},
                                        {"kind": "promote"}]}, default_plan="p")
    assert policy.plans["p"][1].watch_after_switch == "1h"


def test_check_plan_sizes_the_preview_as_paired_evidence(bluegreen):
    ctx, _clock, _gateway = bluegreen
    result = check_plan(ctx, SERVICE, "bluegreen", daily_cases=DAILY)
    [check] = result.steps
    assert check.index == 0 and check.kind == "bluegreen" and check.step == Step.shadow(6)
    assert {m.form for m in check.plan.metrics} == {"paired"}
