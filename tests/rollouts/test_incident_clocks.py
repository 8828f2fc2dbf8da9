"""Incidents' regulatory clocks on a simulated clock: due times by regime, time left, overdue,
reports that stop them, reminders told once per stage through a real webhook; the refusals; the CLI."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from relevo.audit import read_events
from relevo.clock import SimulatedClock, SystemClock
from relevo.context import Context
from relevo.errors import Conflict, InvalidInput, NotFound, Refused
from relevo.monitoring import MonitorSchedule
from relevo.rollouts import classify_incident, list_incidents, record_incident_report, remind_incident_clocks
from relevo.rollouts.incidents import open_incident
from relevo.services import parse_spec
from relevo.services.catalogue import apply_spec
from relevo.store import connect, upgrade
from tests.cli.conftest import Cli

T0 = datetime(2026, 5, 4, 8, tzinfo=timezone.utc)
H = timedelta(hours=1)
SPEC = {"name": "licence-prefilter", "description": "pre-filter of licence applications", "owner": "Urbanism",
        "roles": {"incident_owners": ["ann"], "informed": ["citizen-desk"]}}


def incident_store(settings, clock=None) -> tuple[Context, int]:
    """A store with one service and one incident opened at T0, acting as its incident owner ann."""
    upgrade(settings.resolved_database_url())
    ctx = Context.open(settings, clock=clock or SimulatedClock(T0)).acting_as("ann")
    apply_spec(ctx, parse_spec(SPEC, "a spec with incident owners"))
    with connect(ctx.engine) as conn:
        incident_id = open_incident(conn, ctx, service="licence-prefilter", environment="production", rollout_id=None,
                                    release_id=None, title="rejections up in north", evidence={})
    return ctx, incident_id


def test_clocks_run_from_awareness_and_remind_once_per_stage(settings, receiver):
    url, received = receiver
    clock = SimulatedClock(T0)
    ctx, incident = incident_store(settings.model_copy(update={"webhook_url": url}), clock)
    try:
        gdpr = classify_incident(ctx, incident, "gdpr_breach")  # aware now, by default
        assert (gdpr.kind, gdpr.due_at, gdpr.seconds_left, gdpr.state) == (
            "personal_data_breach", T0 + 72 * H, 72 * 3600, "running")
        # The AI Act's periods by kind, from when the organisation became aware (an hour before the incident).
        for kind, period in [(None, timedelta(days=15)), ("widespread", timedelta(days=2)),
                             ("critical_disruption", timedelta(days=2)), ("death", timedelta(days=10))]:
            ai = classify_incident(ctx, incident, "ai_act", kind, aware_at=T0 - H)
            assert (ai.kind, ai.due_at) == (kind or "serious", T0 - H + period)
        classify_incident(ctx, incident, "ai_act", "widespread", aware_at=T0)  # due T0 + 48h
        assert [m["kind"] for m in received] == ["incident.classified"] * 6
        # Told to the incident owners, who file the report, and to the informed.
        assert received[0]["informed"] == ["ann", "citizen-desk"]
        assert received[0]["message"].endswith("GDPR breach notification to the supervisory authority (Art. 33) due "
                                               "2026-05-07 08:00 UTC")
        received.clear()

        def stages():
            told = [(m["details"]["regime"], m["details"]["stage"]) for m in received]
            received.clear()
            return told

        assert remind_incident_clocks(ctx) == [] and stages() == []
        clock.advance(24 * H)  # a 2-day clock's half is its last day: told once
        MonitorSchedule(ctx, "production").step()  # as `relevo serve` runs it
        assert stages() == [("ai_act", "day")]
        clock.advance(12 * H)
        assert [r.stage for r in remind_incident_clocks(ctx)] == ["half"] and stages() == [("gdpr_breach", "half")]
        assert remind_incident_clocks(ctx) == [] and stages() == []  # each stage once
        clock.advance(12 * H)
        remind_incident_clocks(ctx)
        assert sorted(stages()) == [("ai_act", "overdue"), ("gdpr_breach", "day")]
        [listed] = list_incidents(ctx, "licence-prefilter")
        ai, gdpr = listed.clocks
        assert (ai.regime, ai.state, ai.seconds_left, ai.reminded) == ("ai_act", "overdue", 0, "overdue")
        assert (gdpr.state, gdpr.seconds_left) == ("running", 24 * 3600)

        clock.advance(H)
        late = record_incident_report(ctx, incident, "ai_act", "AI-2026-0042")
        assert (late.state, late.seconds_left, late.reported_by, late.report_reference, late.reported_at) == (
            "reported_late", None, "ann", "AI-2026-0042", T0 + 49 * H)
        assert [m["kind"] for m in received] == ["incident.reported"] and "after it was due" in received[0]["message"]
        received.clear()
        clock.advance(24 * H)  # T0 + 73h: the GDPR clock is overdue; the filed one says nothing more
        remind_incident_clocks(ctx)
        assert stages() == [("gdpr_breach", "overdue")]
        filed = record_incident_report(ctx, incident, "gdpr_breach", "DPA/2026/17", reported_at=T0 + 71 * H)
        assert filed.state == "reported" and remind_incident_clocks(ctx) == []
        [listed] = list_incidents(ctx)
        assert [c.state for c in listed.clocks] == ["reported_late", "reported"]
        actions = [e.action for e in read_events(ctx, service="licence-prefilter")]
        assert actions.count("incident.clock_reminder") == 5 and actions.count("incident.reported") == 2
    finally:
        ctx.close()


def test_refusals_name_what_is_wrong(settings):
    ctx, incident = incident_store(settings)
    try:
        with pytest.raises(NotFound, match="no incident 99"):
            classify_incident(ctx, 99, "ai_act")
        with pytest.raises(NotFound, match="no incident 99"):
            record_incident_report(ctx, 99, "ai_act", "AI-1")
        with pytest.raises(Refused, match="bob is not among the incident owners of licence-prefilter"):
            classify_incident(ctx.acting_as("bob"), incident, "gdpr_breach")
        with pytest.raises(InvalidInput, match="aware_at .* is in the future"):
            classify_incident(ctx, incident, "ai_act", aware_at=T0 + timedelta(minutes=1))
        with pytest.raises(InvalidInput, match="aware_at must give its UTC offset"):
            classify_incident(ctx, incident, "ai_act", aware_at=datetime(2026, 5, 4, 7))
        with pytest.raises(InvalidInput, match="aware_at .* more than 30 days before incident"):
            classify_incident(ctx, incident, "ai_act", aware_at=T0 - timedelta(days=31))
        with pytest.raises(InvalidInput, match="a GDPR breach has no kind"):
            classify_incident(ctx, incident, "gdpr_breach", "death")
        with pytest.raises(Conflict, match="never classified under gdpr_breach"):
            record_incident_report(ctx, incident, "gdpr_breach", "DPA-1")
        classify_incident(ctx, incident, "gdpr_breach", aware_at=T0 - H)
        with pytest.raises(InvalidInput, match="reported_at .* is before the organisation became aware"):
            record_incident_report(ctx, incident, "gdpr_breach", "DPA-1", reported_at=T0 - 2 * H)
        with pytest.raises(InvalidInput, match="reference must not be blank"):
            record_incident_report(ctx, incident, "gdpr_breach", "  ")
        record_incident_report(ctx, incident, "gdpr_breach", "DPA-1")
        with pytest.raises(Conflict, match="recorded as filed already \\(DPA-1, by ann\\)"):
            record_incident_report(ctx, incident, "gdpr_breach", "DPA-2")
        with pytest.raises(Conflict, match="was filed already"):
            classify_incident(ctx, incident, "gdpr_breach")
    finally:
        ctx.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_cli_classifies_records_and_lists_the_clocks(settings, cli_env):
    cli = Cli(cli_env)
    ctx, incident = incident_store(settings.model_copy(update={"actor": "tester"}), clock=SystemClock())
    ctx.close()  # the CLI acts as `tester`: the spec's incident owner is ann
    denied = cli("incident", "classify", incident, "--regime", "gdpr", ok=False)
    assert denied.exit_code == 1 and "tester is not among the incident owners" in denied.stderr
    cli.env["RELEVO_ACTOR"] = "ann"
    shown = " ".join(cli("incident", "classify", incident, "--regime", "ai-act", "--kind", "critical-disruption",
                         "--aware-at", "2h").stdout.split())  # as one line, however wide the console
    assert shown.startswith(f"Incident {incident}: AI Act serious-incident report (Art. 73), serious and irreversible "
                            "disruption of critical infrastructure, due") and "1d 21h left" in shown
    bad = cli("incident", "classify", incident, "--regime", "ai-act", "--aware-at", "tomorrow", ok=False)
    assert "--aware-at takes an ISO 8601 time" in bad.stderr
    assert cli.json("incident", "classify", incident, "--regime", "gdpr")["due_at"]
    filed = cli("incident", "reported", incident, "--regime", "gdpr", "--reference", "DPA/2026/17").stdout
    assert "filed, in time (DPA/2026/17)" in " ".join(filed.split())
    table = " ".join(cli("incident", "list").stdout.split())  # its columns wrap on a narrow console
    assert "regulatory clocks" in table and "│ 1 " in table
    [listed] = cli.json("incident", "list")
    assert [(c["regime"], c["state"]) for c in listed["clocks"]] == [("ai_act", "running"), ("gdpr_breach", "reported")]
