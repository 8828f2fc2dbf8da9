"""A spec-only change (here a stricter rejection threshold) rolls out like a model, on both engines."""

from __future__ import annotations

import httpx
import pytest
import yaml
from sqlalchemy import select

from tests.conftest import start_cleared
from relevo.context import Context
from relevo.settings import Settings
from relevo.api import create_app
from relevo.api.server import serving
from relevo.demo import SERVICE_NAME as SERVICE
from relevo.demo import spec_resource
from relevo.demo.traffic import requests
from relevo.errors import Conflict, InvalidInput, NotFound, Refused
from relevo.gateway.gateway import Gateway
from relevo.rollouts import lifecycle
from relevo.routing.table import get_route
from relevo.services.catalogue import get_spec, spec_digest
from relevo.services.spec import parse_spec
from relevo.store import connect
from relevo.store.tables import audit_events, decisions, shadow_decisions
from tests.api.conftest import bearer, token_for

THRESHOLD = 0.8  # reject only when the model is at least 80% sure


def stricter_spec(**changes):
    body = yaml.safe_load(spec_resource().read_text())
    body["threshold"] = {"label": "rejected", "min_probability": THRESHOLD}
    body.update(changes)
    return parse_spec(body, "stricter.yaml")


def expected(probabilities: dict[str, float]) -> str:
    """The decision under the stricter spec, computed here from the model's probabilities."""
    return "rejected" if probabilities["rejected"] >= THRESHOLD else "admissible"


def decide_all(ctx: Context, n: int, seed: int) -> None:
    with Gateway(ctx, pseudonym_key=b"k" * 32) as gateway:
        for case_id, inputs in requests(n, seed):
            gateway.decide(SERVICE, case_id, inputs)
        assert gateway.wait_for_shadow(timeout=60), "shadow copies still queued after 60 s"


def test_a_threshold_change_is_shadowed_then_promoted(demo):
    rollout = start_cleared(demo.acting_as("ana"), SERVICE, None, spec=stricter_spec())
    route = get_route(demo, SERVICE, "production")
    assert route.mode == "shadow" and route.candidate_version_id == route.stable_version_id
    assert route.candidate_release_id == rollout.release_id

    decide_all(demo, 300, seed=11)
    with connect(demo.engine) as conn:
        rows = conn.execute(select(decisions.c.decision, decisions.c.probabilities,
                                   shadow_decisions.c.decision.label("shadow"))
                            .join(shadow_decisions, shadow_decisions.c.decision_id == decisions.c.id)).all()
        answered = conn.execute(select(decisions.c.id).where(decisions.c.served_by == "version")).all()
    # Every case the stable model answered was copied (a busy machine may push a few past the
    # 300 ms timeout: their fallback answer is not shadowed).
    assert len(rows) == len(answered) >= 250
    # Citizens got the model's own label; the candidate's copy followed the new threshold.
    assert all(r.decision == max(r.probabilities, key=r.probabilities.get) for r in rows)
    assert all(r.shadow == expected(r.probabilities) for r in rows)
    flipped = sum(r.decision != r.shadow for r in rows)
    assert flipped > 0, "the stricter threshold should change some decisions of this traffic"

    # 300 pairs cannot show every criterion within tolerance: only an approver's override promotes.
    with pytest.raises(Refused, match="evidence does not allow a promotion"):
        lifecycle.promote(demo.acting_as("bea"), rollout.id)
    lifecycle.promote(demo.acting_as("bea"), rollout.id, override="threshold agreed with the licensing board")
    with connect(demo.engine) as conn:
        assert get_spec(conn, SERVICE).threshold.min_probability == THRESHOLD
        updates = conn.execute(select(audit_events.c.details).where(audit_events.c.action == "service.updated")).all()
    assert updates[-1].details["rollout_id"] == rollout.id
    route = get_route(demo, SERVICE, "production")
    assert route.mode == "stable" and route.candidate_version_id is None and route.candidate_release_id is None

    decide_all(demo, 100, seed=12)
    with connect(demo.engine) as conn:
        latest = conn.execute(select(decisions.c.decision, decisions.c.probabilities)
                              .order_by(decisions.c.created_at.desc()).limit(100)).all()
    latest = [r for r in latest if r.probabilities is not None]  # the model answered (not a fallback)
    assert all(r.decision == expected(r.probabilities) for r in latest)


def test_a_canary_of_a_spec_change_splits_by_arm(demo):
    start_cleared(demo, SERVICE, None, spec=stricter_spec(), plan="canary-only")
    route = get_route(demo, SERVICE, "production")
    assert route.mode == "canary" and route.weight == 5
    token = token_for(demo, "viewer", "auditor")
    with Gateway(demo, pseudonym_key=b"k" * 32) as gateway, serving(create_app(Settings(), gateway)) as url:
        [served] = httpx.get(f"{url}/v1/services", headers=bearer(token)).json()["services"]
    assert served["route"]["candidate"] == served["route"]["stable"] == "v1"
    assert served["route"]["candidate_spec_sha256"] == spec_digest(stricter_spec())
    decide_all(demo, 600, seed=13)
    with connect(demo.engine) as conn:
        rows = conn.execute(select(decisions.c.arm, decisions.c.decision, decisions.c.probabilities)
                            .where(decisions.c.served_by == "version")).all()
    candidate = [r for r in rows if r.arm == "candidate"]
    assert 10 <= len(candidate) <= 60  # about 5% of 600
    assert all(r.decision == expected(r.probabilities) for r in candidate)
    assert all(r.decision == max(r.probabilities, key=r.probabilities.get) for r in rows if r.arm == "stable")


def test_spec_releases_are_checked_and_gated(demo):
    with pytest.raises(Conflict, match="already the stable version .* same spec: nothing to roll out"):
        start_cleared(demo, SERVICE, None, spec=get_spec_now(demo))
    with pytest.raises(InvalidInput, match="name the version to roll out, or give the new spec"):
        start_cleared(demo, SERVICE, None)
    with pytest.raises(InvalidInput, match="describes service 'other-service'"):
        start_cleared(demo, SERVICE, None, spec=stricter_spec(name="other-service"))
    with pytest.raises(InvalidInput, match=r"threshold.label 'maybe' is not one of decisions"):
        body = yaml.safe_load(spec_resource().read_text()) | {"threshold": {"label": "maybe", "min_probability": 0.5}}
        parse_spec(body, "bad.yaml")

    # A plan the new spec brings does not judge its own rollout: the service's rules do.
    loose = stricter_spec(rollout={"default_plan": "quick", "plans": {"quick": [{"kind": "promote"}]}})
    with pytest.raises(NotFound, match="unknown plan 'quick'"):
        start_cleared(demo, SERVICE, None, spec=loose, plan="quick")

    rollout = start_cleared(demo, SERVICE, None, spec=stricter_spec(), plan="canary-only")
    rolled = lifecycle.rollback(demo, rollout.id, "rejections dropped too far")
    with pytest.raises(Refused, match=f"with this spec repeats a change that was rolled back \\(incident "
                                      f"{rolled.incident_id}: these decision rules\\)"):
        start_cleared(demo, SERVICE, None, spec=stricter_spec(), plan="canary-only")
    # The gate follows the rules, not the spec's hash: another owner or description does not lift it.
    with pytest.raises(Refused, match="these decision rules"):
        start_cleared(demo, SERVICE, None, spec=stricter_spec(owner="someone else", description="new"),
                                plan="canary-only")
    # Other rules are another change: the same model with another threshold may roll out.
    other = stricter_spec(threshold={"label": "rejected", "min_probability": 0.7})
    assert start_cleared(demo, SERVICE, None, spec=other, plan="canary-only").state == "running"
    assert get_spec_now(demo).threshold is None  # the service's spec is unchanged until a promotion


def get_spec_now(ctx: Context):
    with connect(ctx.engine) as conn:
        return get_spec(conn, SERVICE)
