"""The pre-deployment checklist gating a rollout's start, item by item, and who may close each."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from relevo import governance
from relevo.clock import SimulatedClock
from relevo.context import Context
from relevo.continuity import confirm_runbook
from relevo.errors import Conflict, InvalidInput, NotFound, Refused
from relevo.governance import VendorRecord
from relevo.rollouts import start_rollout
from relevo.store import connect
from relevo.store.tables import audit_events
from relevo.suites import run_suite

S = "licence-prefilter"
APPROVER = frozenset({("approver", S)})
OPERATOR = frozenset({("operator", S)})
DPO = frozenset({("dpo", None)})


def _open(ctx: Context, version: str = "v2", plan: str = "canary-only") -> set[str]:
    return {i.item for i in governance.checklist_of(ctx, S, version=version, plan=plan).open}


def _refused_start(ctx: Context, version: str = "v2") -> str:
    with pytest.raises(Refused) as refused:
        start_rollout(ctx.acting_as("olga", OPERATOR), S, version, plan="canary-only")
    return str(refused.value)


def test_each_open_item_holds_the_start_until_the_right_person_closes_it(demo):
    # v2 (gradient boosting after logistic regression) under a plan without shadowing, nothing run.
    assert _open(demo) == {"tests", "staging", "shadow", "runbook", "communication", "dpia_review", "conformity"}
    listed = governance.checklist_of(demo, S, version="v2", plan="canary-only")
    states = {i.item: i.state for i in listed.items}
    assert states["metadata"] == states["criteria"] == states["fallback"] == states["records"] == "passed"
    assert states["contracts"] == "not applicable"  # the demo's AI Act record: the body provides it itself
    assert [d["kind"] for d in listed.significant] == ["model_family"]

    # A run that fails leaves the item open, saying so.
    run = run_suite(demo, S, "v3", "staging")
    v3 = {i.item: i for i in governance.checklist_of(demo, S, version="v3", plan="canary-only").items}
    assert run.outcome == "failed" and v3["tests"].state == "open" and f"test run {run.id}" in v3["tests"].evidence
    assert v3["dpia_review"].state == "not applicable"  # v3 is logistic regression too: no significant change

    operator, approver, dpo = (demo.acting_as(n, g) for n, g in (("olga", OPERATOR), ("bea", APPROVER), ("dora", DPO)))
    # Refusals: the wrong role, a Relevo-ticked item, an item the law keeps from waivers, no reason.
    with pytest.raises(Refused, match="owner"):
        confirm_runbook(approver.acting_as("cai", frozenset({("case_worker", S)})), S)
    with pytest.raises(Refused, match="ticked by Relevo"):
        governance.attest(operator, S, "runbook", "read it through with the team", version="v2", plan="canary-only")
    with pytest.raises(Refused, match="ticked by Relevo"):
        governance.attest(operator, S, "tests", "we ran them by hand, honest", version="v2")
    with pytest.raises(Refused, match="ticked by Relevo"):  # a deployment notice closes it (relevo notice schedule)
        governance.attest(operator, S, "communication", "told them at the briefing", version="v2", plan="canary-only")
    with pytest.raises(Refused, match="cannot be waived"):
        governance.waive(approver, S, "dpia_review", "no time for the DPO this week", version="v2")
    with pytest.raises(InvalidInput, match="reason"):
        governance.waive(approver, S, "shadow", "ok", version="v2", plan="canary-only")
    with pytest.raises(Refused, match="approver"):
        governance.waive(operator, S, "shadow", "the canary is the shadow here", version="v2", plan="canary-only")
    with pytest.raises(Refused, match="dpo"):
        governance.attest(approver, S, "dpia_review", "the DPIA still holds", version="v2")
    with pytest.raises(Conflict, match="metadata is passed .*: nothing to waive"):
        governance.waive(approver, S, "metadata", "the metadata is fine, really", version="v2")
    with pytest.raises(Conflict, match="conformity is not applicable .*: nothing to attest"):
        governance.attest(approver, S, "conformity", "no modification to assess", version="v3")
    with pytest.raises(NotFound, match="unknown checklist item"):
        governance.attest(operator, S, "coffee", "the coffee was good", version="v2")

    closing = [
        (lambda: confirm_runbook(operator, S), "runbook"),
        (lambda: governance.waive(approver, S, "communication", "case workers told at Monday's briefing; no "
                                  "citizen-facing change in this pilot", version="v2", plan="canary-only"),
         "communication"),
        (lambda: governance.attest(dpo, S, "dpia_review", "DPIA-2026-014 reviewed: the processing is unchanged",
                                   version="v2", plan="canary-only"), "dpia_review"),
        (lambda: governance.attest(approver, S, "conformity", "internal-control assessment of v2 completed",
                                   link="https://docs.example.org/conformity/v2", version="v2", plan="canary-only"),
         "conformity"),
        (lambda: governance.waive(approver, S, "shadow", "a 5% canary for 48 hours, as agreed with the board",
                                  version="v2", plan="canary-only"), "shadow"),
        (lambda: governance.waive(approver, S, "tests", "the suite is being rewritten; v2 passed it last month",
                                  version="v2", plan="canary-only"), "tests"),
    ]
    for close, item in closing:
        still = _open(demo)
        message = _refused_start(demo)
        assert all(f"{i} (" in message for i in still), message
        close()
        assert _open(demo) == still - {item}
    assert _open(demo) == {"staging"}
    assert "staging (" in _refused_start(demo)
    governance.waive(approver, S, "staging", "staging is being rebuilt; its differences are known", version="v2",
                     plan="canary-only")

    # Four eyes: bea waived items, so bea (an operator too) may not start it herself.
    with pytest.raises(Refused, match="bea waived tests, staging, shadow, communication on the checklist .* cannot "
                       "also start"):
        start_rollout(demo.acting_as("bea", APPROVER | OPERATOR), S, "v2", plan="canary-only")
    rollout = start_rollout(operator, S, "v2", plan="canary-only")
    kept = governance.checklist_of(demo, S, rollout.id)
    assert kept.rollout_id == rollout.id and not kept.open
    by_item = {i.item: i for i in kept.items}
    assert by_item["dpia_review"].state == "attested" and by_item["dpia_review"].by == "dora"
    assert by_item["conformity"].link == "https://docs.example.org/conformity/v2"
    assert by_item["shadow"].state == "waived" and by_item["shadow"].by == "bea"
    assert by_item["metadata"].by == "relevo"
    with connect(demo.engine) as conn:
        actions = conn.execute(select(audit_events.c.action).order_by(audit_events.c.id)).scalars().all()
    assert actions.count("checklist.attested") == 2 and actions.count("checklist.waived") == 4
    assert actions.count("runbook.confirmed") == 1 and by_item["runbook"].by == "relevo"
    assert "release.change_notice" in actions[actions.index("rollout.started"):]

    # Marks belong to their release: v3's checklist still has its own items open. The runbook's
    # confirmation belongs to the spec, which v3 shares.
    assert {"communication", "shadow"} <= _open(demo, "v3") and "runbook" not in _open(demo, "v3")
    with pytest.raises(NotFound):
        governance.checklist_of(demo, S, 999)


def test_vendors_decide_whether_contracts_are_current(demo_settings):
    now = datetime(2027, 1, 4, tzinfo=timezone.utc)
    clock = SimulatedClock(now)
    ctx = Context.open(demo_settings, clock=clock)
    try:
        approver = ctx.acting_as("bea", APPROVER)
        records = governance.service_records_of(ctx, S)
        governance.set_records(approver, S, governance.ServiceRecords.model_validate(
            {"ai_act": records["ai_act"].body | {"role": "deployer", "provider": "Acme Analytics S.L."}}))

        def contracts():
            return next(i for i in governance.checklist_of(ctx, S, version="v2").items if i.item == "contracts")
        assert contracts().state == "open" and "no vendor record" in contracts().evidence

        terms = {"versioning": True, "rollback": False, "log_access": True, "response_hours": 4}
        vendor = {"name": "Acme Analytics S.L.", "services": [S], "contract_reference": "CONTR-2025-118",
                  "sla": terms, "renewal_date": (now + timedelta(days=30)).date()}
        governance.record_vendor(approver, VendorRecord.model_validate(vendor))
        assert contracts().state == "open" and "lacks rollback support" in contracts().evidence
        governance.record_vendor(approver, VendorRecord.model_validate(vendor | {"sla": terms | {"rollback": True}}))
        assert contracts().state == "passed" and "CONTR-2025-118" in contracts().evidence

        # A reminder before the renewal, once per renewal date; a lapsed contract holds rollouts.
        assert governance.remind_renewals(ctx) == ["Acme Analytics S.L."]
        assert governance.remind_renewals(ctx) == []
        clock.advance(timedelta(days=31))
        assert contracts().state == "open" and "lapsed" in contracts().evidence
        with pytest.raises(Refused):
            governance.record_vendor(ctx.acting_as("olga", OPERATOR), VendorRecord.model_validate(vendor))
    finally:
        ctx.close()


def test_records_name_what_is_missing_and_who_keeps_them(demo):
    with pytest.raises(InvalidInput, match=r"dpia\.reference"):
        governance.parse_records({"dpia": {"completed_on": "2026-01-01", "data_categories": ["x"],
                                           "legal_basis": "Art. 6(1)(e)", "reviewer": "DPO"}}, "records.yaml")
    with pytest.raises(InvalidInput, match="human_step and contest"):
        governance.parse_records({"automated_decisions": {"solely_automated_legal_effect": True}}, "records.yaml")
    with pytest.raises(InvalidInput, match="no section"):
        governance.set_records(demo, S, governance.ServiceRecords())
    dpia = governance.service_records_of(demo, S)["dpia"].body
    with pytest.raises(Refused, match="dpo"):
        governance.set_records(demo.acting_as("bea", APPROVER), S,
                               governance.ServiceRecords.model_validate({"dpia": dpia | {"reviewer": "me"}}))
    with pytest.raises(NotFound):
        governance.service_records_of(demo, "no-such-service")
