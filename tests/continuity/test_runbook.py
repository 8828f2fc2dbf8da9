"""A service's runbook: generated from its spec, versioned by the spec's hash, confirmed by its owners,
and the checklist item that reads the confirmation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from relevo import continuity, governance
from relevo.errors import Conflict, InvalidInput, Refused
from relevo.services import ServiceSpec, load_spec, parse_spec, rules_digest, spec_digest
from relevo.services.catalogue import apply_spec
from relevo.store import connect
from relevo.store.tables import audit_events
from relevo.web import runbook_html

DEMO_SPEC = Path(__file__).resolve().parents[2] / "src" / "relevo" / "demo" / "licence-prefilter.yaml"
S = "licence-prefilter"
OPERATOR = frozenset({("operator", S)})


def _owned(**runbook) -> ServiceSpec:
    """The demo spec with named owners (and a runbook section, when given)."""
    body = load_spec(DEMO_SPEC).model_dump(mode="json", exclude={"runbook"})
    body["roles"] |= {"operators": ["olga"], "approvers": ["bea"], "incident_owners": ["olga"]}
    return parse_spec(body | ({"runbook": runbook} if runbook else {}), "owned.yaml")


def test_the_demo_runbook_names_owners_steps_criteria_fallback_and_notifications():
    spec = _owned()
    runbook = continuity.runbook_from_spec(spec)
    text = continuity.runbook_markdown(runbook)
    assert runbook.version == spec_digest(spec) and not runbook.confirmed
    assert "responsible (operators: start, pause, resume, roll back): olga" in text
    assert "accountable (approvers: promote, waive): bea" in text and "informed: case-worker" in text
    assert "1. shadow for at least 5d" in text and "canary: the candidate answers 50% of cases for at least 72h" in text
    assert "fairness(age_band:admissible): the rate of admissible for every age_band group at least 0.8" in text
    assert "more than 20% of the candidate's last 50 decisions failed: rolled back at once" in text
    assert "when documents_complete < 0.4: rejected (fewer than 40% of the required documents)" in text
    assert "then manual review" in text and "`relevo fallback licence-prefilter on`" in text
    assert "AEPD" in text and "within 72 hours" in text and "GDPR Art. 33" in text and "AI Act Art. 73" in text
    assert "detect within 1h, recover within 4h" in text  # the defaults, the spec naming none
    assert continuity.runbook_markdown(continuity.runbook_from_spec(spec)) == text  # a pure function of the spec

    page = runbook_html(runbook)
    assert "<h2>Fallback procedure</h2>" in page and "<code>relevo fallback licence-prefilter on</code>" in page
    assert not re.search(r"<(script|link)[^>]*(src|href)=[\"']?(https?:)?//", page)  # self-contained
    assert "http://" not in page and "https://" not in page


def test_the_runbook_section_keeps_hashes_of_specs_without_it():
    plain = ServiceSpec(name="abc")
    assert spec_digest(plain) == "ca54ef99ce94187140ab61894f451adae57ae0f6bbda1f709ed027909dfebb89"
    timed = parse_spec({"name": "abc", "runbook": {"detect": "15m", "recover": "1h", "sections": [
        {"title": "Out of hours", "body": "the duty manager is reached on the on-call phone"}]}}, "spec.yaml")
    assert spec_digest(timed) != spec_digest(plain) and rules_digest(timed) == rules_digest(plain)
    text = continuity.runbook_markdown(continuity.runbook_from_spec(timed))
    assert "detect within 15m, recover within 1h" in text and "## Out of hours" in text
    with pytest.raises(InvalidInput, match="durations look like"):
        parse_spec({"name": "abc", "runbook": {"detect": "soon"}}, "spec.yaml")


def test_owners_confirm_a_version_and_a_spec_change_needs_a_new_confirmation(ctx):
    apply_spec(ctx, _owned())
    with pytest.raises(Refused, match="owner"):
        continuity.confirm_runbook(ctx.acting_as("cai", frozenset({("case_worker", S)})), S)
    with pytest.raises(Refused, match="not among the"):
        continuity.confirm_runbook(ctx.acting_as("otto", OPERATOR), S)  # an operator, not this service's
    first = continuity.confirm_runbook(ctx.acting_as("olga", OPERATOR), S)
    assert [(c.by, c.role) for c in first.confirmations] == [("olga", "operators")]
    with pytest.raises(Conflict, match="already confirmed"):
        continuity.confirm_runbook(ctx.acting_as("olga", OPERATOR), S)
    assert continuity.runbook_of(ctx, S).confirmed

    apply_spec(ctx, _owned(detect="15m", recover="1h"))
    changed = continuity.runbook_of(ctx, S)
    assert changed.version != first.version and not changed.confirmed and changed.detect == "15m"
    again = continuity.confirm_runbook(ctx.acting_as("bea", frozenset({("approver", S)})), S)
    assert [(c.by, c.role) for c in again.confirmations] == [("bea", "approvers")]
    with connect(ctx.engine) as conn:
        events = conn.execute(select(audit_events.c.actor, audit_events.c.details).where(
            audit_events.c.action == "runbook.confirmed").order_by(audit_events.c.id)).all()
    assert [(e.actor, e.details["spec_sha256"]) for e in events] == [("olga", first.version), ("bea", again.version)]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_checklist_item_follows_the_confirmation(demo):
    def runbook_item():
        return next(i for i in governance.checklist_of(demo, S, version="v2").items if i.item == "runbook")

    item = runbook_item()
    assert item.state == "open" and f"relevo runbook confirm {S}" in item.evidence
    assert next(k for k in governance.ITEMS if k.id == "runbook").attested_by is None  # Relevo ticks it
    continuity.confirm_runbook(demo.acting_as("olga", OPERATOR), S)
    item = runbook_item()
    assert (item.state, item.by) == ("passed", "relevo") and "olga (operator" in item.evidence
