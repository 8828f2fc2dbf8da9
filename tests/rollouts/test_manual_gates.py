"""Changes by hand (route, tag, kill switch, spec) are checked like rollout transitions: roles,
no bypass of the judge or of an open incident, overrides on record, loosening is a release."""

from __future__ import annotations

import os

import pytest
import yaml
from sqlalchemy import select

from tests.conftest import start_cleared
from relevo.demo import SERVICE_NAME as SERVICE
from relevo.demo import spec_resource
from relevo.errors import Conflict, InvalidInput, Refused
from relevo.registry.queries import resolve_version
from relevo.rollouts import lifecycle
from relevo.rollouts.manual import apply_by_hand, fallback_by_hand, route_by_hand, tag_by_hand
from relevo.routing.table import get_route
from relevo.services.catalogue import apply_spec, get_spec
from relevo.services.spec import parse_spec
from relevo.store import connect
from relevo.store.tables import overrides

REASON = "interim fix agreed with the licensing board"


def demo_body() -> dict:
    return yaml.safe_load(spec_resource().read_text())


def with_roles(ctx) -> None:
    body = demo_body()
    body["roles"] = {"operators": ["olga"], "approvers": ["abel"], "incident_owners": ["ines"]}
    apply_spec(ctx, parse_spec(body, "roles"))


def stable_of(ctx) -> str:
    route = get_route(ctx, SERVICE, "production")
    with connect(ctx.engine) as conn:
        return next(v.name for v in [resolve_version(conn, SERVICE, f"v{n}") for n in (1, 2, 3)]
                    if v.id == route.stable_version_id)


def test_every_change_by_hand_needs_the_operator_role(demo):
    with_roles(demo)
    mallory = demo.acting_as("mallory")
    for change in (lambda: route_by_hand(mallory, SERVICE, "production", candidate="v2", mode="shadow", weight=0),
                   lambda: fallback_by_hand(mallory, SERVICE, "production", True),
                   lambda: tag_by_hand(mallory, SERVICE, "candidate", "v3"),
                   lambda: apply_by_hand(mallory, parse_spec(demo_body() | {"description": "x"}, "spec"))):
        with pytest.raises(Refused, match="mallory is not among the operators"):
            change()
    olga = demo.acting_as("olga")
    assert route_by_hand(olga, SERVICE, "production", candidate="v2", mode="shadow", weight=0).mode == "shadow"
    assert fallback_by_hand(olga, SERVICE, "production", True).fallback_forced


def test_the_stable_version_moves_only_through_a_rollout_or_an_approvers_override(demo):
    with_roles(demo)
    olga, abel = demo.acting_as("olga"), demo.acting_as("abel")
    with pytest.raises(Refused, match="v2 has not passed a rollout in production; roll it out"):
        route_by_hand(olga, SERVICE, "production", stable="v2")
    with pytest.raises(Refused, match="olga is not among the approvers"):
        route_by_hand(olga, SERVICE, "production", stable="v2", override=REASON)
    with pytest.raises(Refused, match="abel is not among the operators"):  # an approver alone does not route
        route_by_hand(abel, SERVICE, "production", stable="v2", override=REASON)
    with pytest.raises(Refused, match="has not passed a rollout"):
        tag_by_hand(olga, SERVICE, "stable", "v2")
    assert stable_of(demo) == "v1"

    both = demo.acting_as("olga")  # give olga both roles for the override itself
    body = demo_body()
    body["roles"] = {"operators": ["olga"], "approvers": ["olga"], "incident_owners": ["ines"]}
    apply_spec(demo, parse_spec(body, "roles"))
    with pytest.raises(InvalidInput, match="written reason"):
        route_by_hand(both, SERVICE, "production", stable="v2", override="ok")
    route_by_hand(both, SERVICE, "production", stable="v2", override=REASON)
    assert stable_of(demo) == "v2"
    with connect(demo.engine) as conn:
        assert resolve_version(conn, SERVICE, "stable").name == "v2"  # the tag follows the route
        gates = [(o["gate"], o["actor"], o["reason"]) for o in conn.execute(select(overrides)).mappings()]
    assert ("route.stable", "olga", REASON) in gates
    # Back to v1, which the demo's approver established: no override needed.
    route_by_hand(both, SERVICE, "production", stable="v1")
    assert stable_of(demo) == "v1"


def test_a_rolled_back_version_cannot_be_made_stable_by_hand(demo):
    rollout = start_cleared(demo, SERVICE, "v3", plan="canary-only")
    rolled = lifecycle.rollback(demo, rollout.id, "too many rejections")
    with pytest.raises(Refused, match=f"v3 repeats a change that was rolled back \\(incident {rolled.incident_id}"):
        route_by_hand(demo, SERVICE, "production", stable="v3", override=REASON)
    with pytest.raises(Refused, match="repeats a change that was rolled back"):
        tag_by_hand(demo, SERVICE, "stable", "v3", override=REASON)
    assert stable_of(demo) == "v1"


def test_citizens_reach_a_candidate_by_hand_only_with_an_override(demo):
    with pytest.raises(Refused, match="sends citizens to licence-prefilter v2 without the judge"):
        route_by_hand(demo, SERVICE, "production", candidate="v2", mode="canary", weight=5)
    with pytest.raises(Refused, match="sends citizens to licence-prefilter v2 without the judge"):
        # blue/green answers every case with the candidate, whatever weight is given
        route_by_hand(demo, SERVICE, "production", candidate="v2", mode="bluegreen", weight=0)
    route = route_by_hand(demo, SERVICE, "production", candidate="v2", mode="canary", weight=5, override=REASON)
    assert route.mode == "canary"
    # In staging, operators may route as they see fit (nothing there answers citizens).
    assert route_by_hand(demo, SERVICE, "staging", stable="v3").stable_version_id is not None


def test_no_route_change_by_hand_while_a_rollout_owns_the_route(demo):
    rollout = start_cleared(demo, SERVICE, "v2")
    with pytest.raises(Conflict, match=f"rollout {rollout.id} of licence-prefilter owns its route in production"):
        route_by_hand(demo, SERVICE, "production", mode="stable", clear_candidate=True, weight=0)
    assert fallback_by_hand(demo, SERVICE, "production", True).fallback_forced  # the kill switch always works


def test_a_version_that_cannot_answer_is_never_made_stable(demo):
    with connect(demo.engine) as conn:
        record = resolve_version(conn, SERVICE, "v2")
    path = demo.blobs.local_path(record.blob_uri) / "model.skops"
    os.chmod(path, 0o644)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(Refused, match="v2 cannot answer, so it can never be promoted or made stable"):
        route_by_hand(demo, SERVICE, "production", stable="v2", override=REASON)


@pytest.mark.parametrize("change,why", [
    (lambda b: b["rollout"]["criteria"].pop(0), "drops decision_rate(rejected)"),
    (lambda b: b["rollout"]["criteria"][0]["tolerance"].update(absolute=0.2), "a wider tolerance"),
    (lambda b: b["rollout"]["criteria"][4].update(min_ratio=0.6), "a lower min_ratio"),
    (lambda b: b["rollout"]["guards"].clear(), "the error_rate guard"),
    (lambda b: b.update(roles={"operators": ["olga", "mallory"]}), "roles.operators adds mallory"),
    (lambda b: b.update(threshold={"label": "rejected", "min_probability": 0.9}), "changes the decision rules (threshold)"),
    (lambda b: b["fallback"]["rules"].pop(), "changes the decision rules (fallback)"),
    (lambda b: b["rollout"]["plans"]["standard"].pop(0), "rollout.plans change"),
    (lambda b: b["rollout"]["criteria"][1].update(max_share=None, tolerance={"relative": 3.0}),
     "drops latency(800ms)"),  # another kind of test is another criterion
])
def test_loosening_a_live_service_is_a_release_not_an_apply(demo, change, why):
    body = demo_body()
    body["roles"] = {"operators": ["olga"]}
    apply_by_hand(demo, parse_spec(body, "roles"))  # naming operators tightens the roles: applied
    change(body)
    with pytest.raises(Refused, match="answers citizens in production, and this spec is a release") as refused:
        apply_by_hand(demo.acting_as("olga"), parse_spec(body, "changed"))
    assert why in str(refused.value) and "relevo rollout start licence-prefilter --spec FILE" in str(refused.value)


def test_tightening_and_describing_a_live_service_apply_at_once(demo):
    body = demo_body()
    body["description"] = "Pre-filters licence applications."
    body["owner"] = "Licensing and Permits"
    body["rollout"]["criteria"][0]["tolerance"]["absolute"] = 0.04  # stricter
    body["rollout"]["criteria"].append({"metric": "agreement", "min_agreement": 0.9})  # one more to show
    body["rollout"]["guards"][0]["max_share"] = 0.1  # trips sooner
    assert apply_by_hand(demo, parse_spec(body, "tighter")) == "updated"
    with connect(demo.engine) as conn:
        assert get_spec(conn, SERVICE).rollout.criteria[0].tolerance.absolute == 0.04
