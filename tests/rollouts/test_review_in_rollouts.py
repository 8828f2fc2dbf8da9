"""A rollout under a review policy: held answers go to case workers, their answers are the
corrections the judge counts, and `rollout status` shows both."""

from __future__ import annotations

import copy

import yaml
from sqlalchemy import func, select

from tests.conftest import start_cleared
from relevo.demo import SERVICE_NAME as SERVICE
from relevo.demo import spec_resource
from relevo.demo.scenario import cases
from relevo.rollouts.queries import rollout_status
from relevo.rollouts.simulation import simulate_rollout
from relevo.services.catalogue import apply_spec
from relevo.services.spec import parse_spec
from relevo.store import connect
from relevo.store.tables import decisions, feedback, manual_reviews

from tests.cli.conftest import Cli


def test_held_answers_are_reviewed_counted_as_corrections_and_shown(world, demo_settings, cli_env):
    ctx, clock, gateway = world
    body = yaml.safe_load(spec_resource().read_text())
    body["review"] = {"groups": {"age_band": ["65+"]}}
    body["rollout"]["criteria"] = copy.deepcopy([
        {"metric": "correction_rate", "tolerance": {"absolute": 0.10}, "review_delay": "2h", "min_sample": 20}])
    body["rollout"]["plans"]["halves"] = [{"kind": "canary", "weight": 50, "duration": "12h"}, {"kind": "promote"}]
    apply_spec(ctx, parse_spec(body, "spec with a review policy"))
    rollout = start_cleared(ctx, SERVICE, "v2", plan="halves")
    # No random review sample: case workers see only what the policy holds for them.
    simulate_rollout(ctx, clock, gateway, rollout, cases(31), daily_cases=3000, batch=50, review_share=0.0,
                     review_delay=(1.0, 3.0), judge_every=1)

    status = rollout_status(ctx, SERVICE, "production", rollout.id)
    with connect(ctx.engine) as conn:
        step = decisions.c.step.isnot(None)  # the rollout's decisions
        held = dict(conn.execute(select(decisions.c.arm, func.count()).where(step, decisions.c.review.isnot(None))
                                 .group_by(decisions.c.arm)).all())
        older = conn.execute(select(func.count()).select_from(decisions).where(
            step, decisions.c.review.isnot(None), decisions.c.inputs["age_band"].as_string() != "65+")).scalar()
        answered = conn.execute(select(func.count()).select_from(feedback.join(decisions))
                                .where(step, feedback.c.superseded_at.is_(None))).scalar()
        still_open = conn.execute(select(func.count()).select_from(manual_reviews)
                                  .where(manual_reviews.c.status == "open")).scalar()
    assert older == 0, "only the 65+ group is held"
    report = status.review.arms
    assert (report["stable"].held, report["candidate"].held) == (held["stable"], held["candidate"])
    assert report["candidate"].held > 20 and report["stable"].held > 20
    assert report["stable"].answered + report["candidate"].answered == answered > 0
    assert report["stable"].waiting + report["candidate"].waiting == still_open
    for arm in report.values():
        assert 0 <= arm.corrected <= arm.answered <= arm.held <= arm.decisions

    # Every correction the judge counts here is a case worker's answer to a held case.
    corrections = next(m for m in status.judgement.metrics if m.name == "correction_rate")
    assert 0 < corrections.n_candidate <= report["candidate"].answered

    shown = Cli(cli_env)("rollout", "status", SERVICE).stdout
    assert "held for a case worker" in shown and "candidate" in shown
    assert f"{report['candidate'].held:,}" in shown

