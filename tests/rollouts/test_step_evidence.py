"""A step's kept evidence in a real store: judged after every batch, it gives what one reading of
the whole step gives, also after late verdicts, a verdict replaced, a late shadow answer, a
judgement catching up in chunks and a change of criteria."""

from __future__ import annotations

import copy
from datetime import timedelta

import yaml
from sqlalchemy import delete, func, select

from relevo.casework.feedback import record_feedback
from relevo.demo import SERVICE_NAME as SERVICE
from relevo.demo import spec_resource
from relevo.demo.scenario import cases
from relevo.rollouts import step_evidence
from relevo.rollouts.judgement import judge_rollout, judge_step, judged_attributes, shown_earlier
from relevo.rollouts.ledger import Ledger
from relevo.rollouts.observations import observe_reviews, observe_step
from relevo.rollouts.rollout import load_rollout
from relevo.rollouts.simulation import simulate_rollout
from relevo.services.catalogue import apply_spec, get_spec
from relevo.services.rollout_policy import parse_duration
from relevo.services.spec import parse_spec
from relevo.store import connect
from relevo.store.tables import decisions, feedback, shadow_decisions
from relevo.store.tables import step_evidence as kept_rows
from tests.conftest import start_cleared


def whole_step(ctx, rollout) -> dict:
    """The judgement from one reading of the whole step, nothing kept."""
    now = ctx.clock.now()
    with connect(ctx.engine) as conn:
        policy = get_spec(conn, rollout.service).rollout
        obs = observe_step(conn, rollout.step_label, judged_attributes(policy))
        reviews = {c.name: observe_reviews(conn, rollout.step_label, parse_duration(c.review_delay), None, now)
                   for c in policy.criteria}
        return judge_step(policy, rollout, obs, now, shown_earlier(conn, rollout, policy), Ledger(),
                          lambda c: reviews[c.name]).as_dict()


def started(ctx, plan: list[dict]):
    body = yaml.safe_load(spec_resource().read_text())
    for criterion in body["rollout"]["criteria"]:
        if criterion["metric"] == "correction_rate":
            criterion["review_delay"] = "2h"  # reviews come 1-3 h after: some late
    body["rollout"]["plans"]["test"] = copy.deepcopy(plan)
    apply_spec(ctx, parse_spec(body, "spec"))
    return start_cleared(ctx, SERVICE, "v2", plan="test")


def test_kept_evidence_gives_the_judgement_of_the_whole_step(world, monkeypatch):
    ctx, clock, gateway = world
    rollout = started(ctx, [{"kind": "canary", "weight": 50, "duration": "24h"}, {"kind": "promote"}])
    simulate_rollout(ctx, clock, gateway, rollout, cases(5), daily_cases=3000, batch=50, review_delay=(1.0, 3.0),
                     horizon=timedelta(hours=8), judge_every=1)
    clock.advance(timedelta(hours=1))
    with connect(ctx.engine) as conn:
        rollout = load_rollout(conn, rollout.id)
        assert conn.execute(select(func.count()).select_from(kept_rows)).scalar() == 1
    assert judge_rollout(ctx, rollout).as_dict() == whole_step(ctx, rollout)
    corrections = next(m for m in whole_step(ctx, rollout)["metrics"] if m["name"] == "correction_rate")
    assert corrections["n_candidate"] > 20

    # A case worker changes a verdict counted long ago: the corrections are counted again.
    with connect(ctx.engine) as conn:
        old = conn.execute(select(decisions.c.id, decisions.c.decision, feedback.c.decision.label("verdict"))
                           .join(feedback, feedback.c.decision_id == decisions.c.id)
                           .where(decisions.c.step == rollout.step_label, feedback.c.superseded_at.is_(None),
                                  feedback.c.outcome == "confirmed")
                           .order_by(decisions.c.created_at).limit(1)).one()
    clock.advance(timedelta(minutes=5))
    other = next(label for label in get_spec_labels(ctx) if label != old.decision)
    record_feedback(ctx, old.id, decision=other, reason="second look", reviewer="cw-1")
    assert judge_rollout(ctx, rollout).as_dict() == whole_step(ctx, rollout)

    # A judge that lost what was kept catches up in chunks.
    monkeypatch.setattr(step_evidence, "CHUNK", 97)
    with connect(ctx.engine) as conn:
        conn.execute(delete(kept_rows))
    assert judge_rollout(ctx, rollout).as_dict() == whole_step(ctx, rollout)

    # Other criteria: what was kept for the old ones is not used.
    body = yaml.safe_load(spec_resource().read_text())
    body["rollout"]["criteria"] = [c for c in body["rollout"]["criteria"] if c["metric"] != "latency"]
    body["rollout"]["plans"]["test"] = rollout.plan
    apply_spec(ctx, parse_spec(body, "spec"))
    assert judge_rollout(ctx, rollout).as_dict() == whole_step(ctx, rollout)


def get_spec_labels(ctx) -> list[str]:
    with connect(ctx.engine) as conn:
        return get_spec(conn, SERVICE).decisions


def test_a_late_shadow_answer_has_the_step_read_again(world):
    ctx, clock, gateway = world
    rollout = started(ctx, [{"kind": "shadow", "duration": "24h"}, {"kind": "promote"}])
    simulate_rollout(ctx, clock, gateway, rollout, cases(6), daily_cases=3000, batch=50,
                     horizon=timedelta(hours=3), judge_every=1)
    gateway.wait_for_shadow()
    with connect(ctx.engine) as conn:
        rollout = load_rollout(conn, rollout.id)
        first = conn.execute(select(shadow_decisions).join(decisions)
                             .where(decisions.c.step == rollout.step_label)
                             .order_by(decisions.c.created_at).limit(1)).mappings().one()
        conn.execute(delete(shadow_decisions).where(shadow_decisions.c.decision_id == first["decision_id"]))
        conn.execute(delete(kept_rows))
    clock.advance(timedelta(hours=1))
    before = judge_rollout(ctx, rollout)  # kept without that answer
    assert before.as_dict() == whole_step(ctx, rollout)
    clock.advance(timedelta(minutes=1))
    with connect(ctx.engine) as conn:  # the answer arrives, long after its decision
        conn.execute(shadow_decisions.insert().values(**(dict(first) | {"created_at": clock.now()})))
    after = judge_rollout(ctx, rollout)
    assert after.candidate_decisions == before.candidate_decisions + 1
    assert after.as_dict() == whole_step(ctx, rollout)
