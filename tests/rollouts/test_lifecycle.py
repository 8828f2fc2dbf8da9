"""Rollout transitions on both engines: legal moves, roles, four eyes, the retry gate."""

from __future__ import annotations

import pytest
import yaml
from sqlalchemy import select

from tests.conftest import start_cleared
from relevo.demo import spec_resource
from relevo.errors import Conflict, InvalidInput, NotFound, Refused
from relevo.registry.queries import resolve_version, version_details
from relevo.rollouts import lifecycle
from relevo.rollouts.incidents import document_incident
from relevo.rollouts.states import TRANSITIONS, next_state
from relevo.routing.table import get_route
from relevo.services.catalogue import apply_spec
from relevo.services.spec import parse_spec
from relevo.store import connect
from relevo.store.tables import audit_events, overrides

SERVICE = "licence-prefilter"


def test_every_state_refuses_what_it_cannot_do():
    assert next_state("running", "pause") == "paused"
    with pytest.raises(Conflict, match="cannot resume a rollout that is running; from running you can: abort"):
        next_state("running", "resume")
    with pytest.raises(Conflict, match="from promoted you can: revert .*relevo rollout revert ID"):
        next_state("promoted", "rollback")
    assert next_state("promoted", "revert") == "reverted"
    with pytest.raises(Conflict, match="reverted is final"):
        next_state("reverted", "revert")
    assert {s for s, _ in TRANSITIONS} == {"running", "paused", "held", "promoted"}


def test_start_routes_the_first_step_and_refuses_a_second_rollout(demo):
    rollout = start_cleared(demo, SERVICE, "v2")
    route = get_route(demo, SERVICE, "production")
    assert (rollout.state, rollout.step["kind"]) == ("running", "shadow")
    assert route.mode == "shadow" and route.step == rollout.step_label
    with pytest.raises(Conflict, match="already has a rollout in progress"):
        start_cleared(demo, SERVICE, "v3")
    with pytest.raises(NotFound, match="unknown plan 'fast'"):
        start_cleared(demo, SERVICE, "v3", plan="fast")
    with pytest.raises(Conflict, match="cannot resume a rollout that is running"):
        lifecycle.transition(demo, rollout.id, "resume")
    assert lifecycle.transition(demo, rollout.id, "pause").state == "paused"
    assert lifecycle.transition(demo, rollout.id, "resume").state == "running"


def test_the_stable_version_is_not_a_candidate(demo):
    with pytest.raises(Conflict, match="already the stable version"):
        start_cleared(demo, SERVICE, "v1")


def test_promotion_needs_four_eyes_and_evidence_or_a_recorded_override(demo):
    rollout = start_cleared(demo.acting_as("ana"), SERVICE, "v2")
    with pytest.raises(Refused, match="ana started rollout .* cannot also approve"):
        lifecycle.promote(demo.acting_as("ana"), rollout.id)
    with pytest.raises(Refused, match="ana started rollout .* cannot also approve"):
        lifecycle.promote(demo.acting_as("ana"), rollout.id, override="I am sure it is fine, trust me")
    # No decision has been judged yet: nothing was shown, so nobody promotes without an override.
    with pytest.raises(Refused, match="evidence does not allow a promotion: step 1 \\(shadow\\) has not passed.*"
                                      "never shown within the tolerance"):
        lifecycle.promote(demo.acting_as("bea"), rollout.id)
    with pytest.raises(InvalidInput, match="written reason"):
        lifecycle.promote(demo.acting_as("bea"), rollout.id, override="ok")
    promoted = lifecycle.promote(demo.acting_as("bea"), rollout.id,
                                 override="urgent security patch; shadow evidence reviewed by hand")
    assert promoted.state == "promoted"
    with connect(demo.engine) as conn:
        [override] = conn.execute(select(overrides).where(overrides.c.gate == "rollout.promote")).mappings().all()
        event = conn.execute(select(audit_events.c.details).where(
            audit_events.c.action == "rollout.promoted")).scalar_one()
    assert (override["gate"], override["actor"], override["reason"]) == (
        "rollout.promote", "bea", "urgent security patch; shadow evidence reviewed by hand")
    assert event["override"]["reason"].startswith("urgent") and event["override"]["gaps"]
    route = get_route(demo, SERVICE, "production")
    with connect(demo.engine) as conn:
        assert route.stable_version_id == resolve_version(conn, SERVICE, "v2").id
        assert resolve_version(conn, SERVICE, "stable").name == "v2"
        # v2 was the candidate (the demo tags it so): promoted, it is not one any more, and the move is kept.
        with pytest.raises(NotFound, match="candidate"):
            resolve_version(conn, SERVICE, "candidate")
        removed = conn.execute(select(audit_events.c.details).where(audit_events.c.action == "tag.removed")).scalar_one()
        history = version_details(conn, resolve_version(conn, SERVICE, "v2")).tag_history
    assert removed == {"from": "v2"}
    assert [(m.tag, m.from_version, m.to_version) for m in history][-2:] == [("stable", "v1", "v2"),
                                                                           ("candidate", "v2", None)]
    assert route.mode == "stable" and route.candidate_version_id is None


def test_rollback_opens_an_incident_and_gates_the_retry(demo):
    rollout = start_cleared(demo, SERVICE, "v3", plan="canary-only")
    rolled = lifecycle.rollback(demo, rollout.id, "operator saw odd rejections")
    assert rolled.state == "rolled_back" and rolled.incident_id
    route = get_route(demo, SERVICE, "production")
    assert route.mode == "stable" and route.candidate_version_id is None
    with pytest.raises(Refused, match=f"incident {rolled.incident_id}: model version v3.*must record a cause"):
        start_cleared(demo, SERVICE, "v3", plan="canary-only")
    with pytest.raises(InvalidInput, match="at least 10 characters"):
        document_incident(demo, rolled.incident_id, cause="?", remediation="?")
    document_incident(demo, rolled.incident_id, cause="class weights favoured rejection",
                      remediation="retrained with balanced weights; review added to the checklist")
    again = start_cleared(demo, SERVICE, "v3", plan="canary-only")
    assert again.state == "running"
    with connect(demo.engine) as conn:
        actions = conn.execute(select(audit_events.c.action)).scalars().all()
    for action in ("rollout.started", "rollout.rolled_back", "incident.opened", "incident.documented"):
        assert action in actions


def test_roles_in_the_spec_are_enforced(demo):
    body = yaml.safe_load(spec_resource().read_text())
    body["roles"] = {"operators": ["olga"], "approvers": ["abel"], "incident_owners": ["ines"]}
    apply_spec(demo, parse_spec(body, "spec"))
    with pytest.raises(Refused, match="mallory is not among the operators"):
        start_cleared(demo.acting_as("mallory"), SERVICE, "v3")
    rollout = start_cleared(demo.acting_as("olga"), SERVICE, "v3")
    with pytest.raises(Refused, match="olga is not among the approvers"):
        lifecycle.promote(demo.acting_as("olga"), rollout.id)
    rolled = lifecycle.rollback(demo.acting_as("olga"), rollout.id, "test")
    with pytest.raises(Refused, match="olga is not among the incident owners"):
        document_incident(demo.acting_as("olga"), rolled.incident_id, cause="a long enough cause",
                          remediation="a long enough remediation")
    document_incident(demo.acting_as("ines"), rolled.incident_id, cause="a long enough cause",
                      remediation="a long enough remediation")
